namespace VisionLabel.Bench;

public sealed record BenchArgs(string Command, int Images, double Seconds, string Shared, string Device, string[]? Models, int Rounds, int Runs, int Threads, bool Polygons, int[] Sizes, int PerImage, double Settle, int Warmup, int Shapes)
{
    public static BenchArgs Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        string repo = FindRepo();
        return new BenchArgs(
            args.FirstOrDefault(a => !a.StartsWith("--")) ?? "",
            int.Parse(Get("--images", "128")),
            double.Parse(Get("--seconds", "8"), System.Globalization.CultureInfo.InvariantCulture),
            Path.GetFullPath(Get("--shared", Path.Combine(repo, "..", "shared"))),
            Get("--device", "cpu"),
            Get("--models", "") is { Length: > 0 } m ? m.Split(',') : null,
            int.Parse(Get("--rounds", "2")),
            int.Parse(Get("--runs", "0")),
            int.Parse(Get("--threads", "1")),
            bool.Parse(Get("--polygons", "true")),
            Get("--sizes", "128,1024").Split(',').Select(int.Parse).ToArray(),
            int.Parse(Get("--per-image", "100")),
            double.Parse(Get("--settle", "15"), System.Globalization.CultureInfo.InvariantCulture),
            int.Parse(Get("--warmup", "64")),
            int.Parse(Get("--shapes", "11200")));
    }

    public static int Usage()
    {
        Console.Error.WriteLine("usage: VisionLabel.Bench grid [--images 100000] [--seconds 10]\n       VisionLabel.Bench quality [--images 2000] [--per-image 50] [--rounds 5]\n       VisionLabel.Bench health [--images 100000] [--per-image 10] [--rounds 3]\n       VisionLabel.Bench canvas [--seconds 10] [--rounds 1] [--shapes 11200 (100000: issue 26's case)]\n       VisionLabel.Bench intake [--images 128] [--seconds S]\n       VisionLabel.Bench export [--images 10000] [--per-image 100]\n       VisionLabel.Bench jobs [--sizes 128,1024] [--models a.onnx] [--seconds S] [--settle S after the upload] [--warmup N images of a job before (0: a first job)]\n       VisionLabel.Bench inference [--images N] [--seconds S] [--rounds R] [--shared DIR] [--device cpu|cuda|auto] [--models a.onnx,b.onnx] [--runs R (0 = one per core)] [--threads T per run] [--polygons true|false]");
        return 2;
    }

    private static string FindRepo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VisionLabel.sln"))) return d.FullName;
        return Directory.GetCurrentDirectory();
    }
}
