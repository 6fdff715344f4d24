using System.Diagnostics;
using System.Text.Json;
using NetVips;
using VisionLabel.Imaging;

namespace VisionLabel.Bench;

/// <summary>
/// Pyramid build time and peak memory by image size (docs/benchmarks.md, issue 26): a JPEG of each size (quadrants of
/// four colours plus noise, written by libvips in strips) is cut into a Deep Zoom pyramid by LargeImages.BuildPyramid in
/// a child process, which reports its own peak resident memory; the baseline is the same file decoded whole into
/// memory by libjpeg-turbo (what the server did before), for the sizes that fit in one array.
/// </summary>
public static class PyramidBench
{
    public static async Task<int> RunAsync(BenchArgs options, string[] args)
    {
        int[] sizes = args.Contains("--sizes") ? options.Sizes : [10_000, 20_000, 40_000];
        string work = Path.Combine(Path.GetTempPath(), "vl-pyramid-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        try
        {
            Console.WriteLine("| size | megapixels | file MB | pyramid s | pyramid peak MB | tiles | whole decode s | whole decode peak MB |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (int size in sizes)
            {
                string path = Path.Combine(work, $"{size}.jpg");
                Make(size, path);
                var pyramid = await ChildAsync("pyramid-one", path, Path.Combine(work, $"dz{size}"));
                Directory.Delete(Path.Combine(work, $"dz{size}"), recursive: true);
                Result? whole = (long)size * size <= LargeImages.WholeDecodeMaxPixels ? await ChildAsync("decode-one", path, "") : null;
                Console.WriteLine($"| {size}×{size} | {(long)size * size / 1e6:F0} | {new FileInfo(path).Length / 1e6:F1} | {pyramid.Seconds:F1} | {pyramid.PeakMb:F0} | {pyramid.Tiles} | " +
                                  $"{(whole is null ? "— (over the whole-decode limit)" : whole.Seconds.ToString("F1"))} | {(whole is null ? "—" : whole.PeakMb.ToString("F0"))} |");
                File.Delete(path);
            }
        }
        finally { Directory.Delete(work, recursive: true); }
        return 0;
    }

    private sealed record Result(double Seconds, double PeakMb, int Tiles);

    private static void Make(int size, string path)
    {
        using var xyz = Image.Xyz(size, size);
        using var right = xyz[0] >= size / 2;
        using var bottom = xyz[1] >= size / 2;
        using var top = right.Ifthenelse(new double[] { 40, 200, 60 }, new double[] { 220, 40, 40 });
        using var low = right.Ifthenelse(new double[] { 250, 250, 250 }, new double[] { 40, 60, 220 });
        using var noise = Image.Gaussnoise(size, size, sigma: 12, mean: 0);
        using var image = (bottom.Ifthenelse(low, top) + noise).Cast(Enums.BandFormat.Uchar);
        image.Jpegsave(path, q: 85);
    }

    /// <summary>Runs one measurement in a fresh process, so its peak memory is its own.</summary>
    private static async Task<Result> ChildAsync(string what, string path, string folder)
    {
        var start = new ProcessStartInfo("dotnet", [typeof(PyramidBench).Assembly.Location, what, path, folder]) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{what} failed: {output}");
        return JsonSerializer.Deserialize<Result>(output.Trim().Split('\n')[^1])!;
    }

    /// <summary>The child's side: one pyramid build or one whole decode, then time, peak resident memory and tiles.</summary>
    public static int Child(string what, string path, string folder)
    {
        var clock = Stopwatch.StartNew();
        int tiles = 0;
        if (what == "pyramid-one")
        {
            LargeImages.BuildPyramid(path, ImageFormat.Jpeg, folder);
            tiles = Directory.EnumerateFiles(folder, "*.jpg", SearchOption.AllDirectories).Count();
        }
        else _ = ImageCodec.Decode(File.ReadAllBytes(path), ImageFormat.Jpeg);
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(JsonSerializer.Serialize(new Result(seconds, Process.GetCurrentProcess().PeakWorkingSet64 / 1e6, tiles)));
        return 0;
    }
}
