using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text.Json;
using NetVips;
using VisionLabel.Imaging;
using VisionLabel.Inference.Tiling;
using VisionLabel.Server.Data;
using VisionLabel.Server.Datasets;
using VisionLabel.Server.Images;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// YOLO slice exports (issue 26, docs/large-images.md): a large image (its slices read from the pyramid's tiles) and a
/// small one (decoded whole) are cut on the pre-labeling grid; every expected label line is worked out by hand below
/// (640 px slices, overlap 0.2: starts 0, 512, 1024, … and the last flush with the edge), slivers under 10% are left out,
/// slices without an object are left out and counted, and the slices' pixels are the image's at their offsets.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class YoloSliceExportTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!;

    public ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path, new Dictionary<string, string?> { ["VisionLabel:Jobs:PollInterval"] = "00:00:00.200" });
        _owner = _app.Client("olga", admin: false);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _owner.Dispose();
        _app.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    [Fact]
    public void A_ring_is_clipped_to_the_slice_and_moved_into_its_pixels()
    {
        // The triangle (600,100) (700,100) (600,200) against the slice x 0..640: the part left of x = 640 is the
        // quadrilateral (600,100) (640,100) (640,160) (600,200), area 40·100 − ½·40·40 = 3,200 of the triangle's 5,000.
        var clipped = YoloSlices.ClipRing([600, 100, 700, 100, 600, 200], new SliceRect(0, 0, 640, 640));
        Assert.Equal(3200, Server.Annotations.PolygonGeometry.ShoelaceArea(clipped), 6);
        Assert.Equal(Points([600, 100, 640, 100, 640, 160, 600, 200]), Points(clipped));
        // In the slice starting at (512, 0) it is whole, shifted by −512.
        Assert.Equal(Points([88, 100, 188, 100, 88, 200]), Points(YoloSlices.ClipRing([600, 100, 700, 100, 600, 200], new SliceRect(512, 0, 640, 640))));
        // Outside: nothing.
        Assert.Empty(YoloSlices.ClipRing([600, 100, 700, 100, 600, 200], new SliceRect(1024, 0, 640, 640)));
    }

    private static HashSet<(double, double)> Points(double[] ring) =>
        Enumerable.Range(0, ring.Length / 2).Select(i => (Math.Round(ring[2 * i], 6), Math.Round(ring[2 * i + 1], 6))).ToHashSet();

    [Fact]
    public async Task Large_and_small_images_export_as_slices_with_their_clipped_labels_and_pixels()
    {
        var project = await (await _owner.PostJson("/api/projects", new { name = "aerial", labels = new[] { new { name = "car" }, new { name = "roof" } } })).Read<ProjectDto>();
        Guid car = project.Labels.Single(l => l.Name == "car").Id, roof = project.Labels.Single(l => l.Name == "roof").Id;

        // 8000 × 6000 (48 MP: a pyramid); red left of x = 4000, green right of it (the top half).
        string bigPath = Path.Combine(_data.Path, "big.jpg");
        LargeImagesTests.Quadrants(8000, 6000, image => { image.Jpegsave(bigPath, q: 90); return bigPath; });
        var big = await UploadAndWaitForPyramid(project.Id, "big.jpg", bigPath);
        // 1000 × 700, a horizontal grey ramp: decoded whole.
        string smallPath = Path.Combine(_data.Path, "small.png");
        using (var x = NetVips.Image.Xyz(1000, 700)) using (var grey = (x[0] * (255.0 / 1000)).Cast(Enums.BandFormat.Uchar)) using (var rgb = grey.Bandjoin(grey, grey)) rgb.Pngsave(smallPath);
        using var form = new MultipartFormDataContent { { new ByteArrayContent(await File.ReadAllBytesAsync(smallPath)), "files", "small.png" } };
        var small = Assert.Single((await (await _owner.PostAsync($"/api/projects/{project.Id}/images", form)).Read<UploadSummary>()).Files).Image!;

        async Task Box(ImageDto image, Guid label, double bx, double by, double bw, double bh) =>
            Assert.Equal(HttpStatusCode.Created, (await _owner.PostJson($"/api/images/{image.Id}/annotations",
                new { labelId = label, kind = "box", geometry = new { x = bx, y = by, width = bw, height = bh } })).StatusCode);
        await Box(big, car, 100, 100, 200, 150);   // A: inside slice (0,0) only
        await Box(big, car, 500, 300, 200, 100);   // C: cut by x = 640 (70% shows in (0,0)) and whole in (512,0)
        await Box(big, car, 1145, 100, 100, 100);  // E: 7% shows in (512,0), left out there; whole in (1024,0)
        await Box(big, car, 3990, 100, 100, 100);  // B: whole in (3584,0), on the red/green border
        Assert.Equal(HttpStatusCode.Created, (await _owner.PostJson($"/api/images/{big.Id}/annotations",
            new { labelId = roof, kind = "polygon", geometry = new { rings = new[] { new double[] { 600, 100, 700, 100, 600, 200 } } } })).StatusCode);
        await Box(small, roof, 400, 200, 100, 100); // in all four slices of 1000 × 700: starts x 0, 360 and y 0, 60

        var zip = await Export(project.Id, "format=yolo-detect&scope=all&slice=640&sliceOverlap=0.2");
        var labels = zip.Entries.Where(e => e.FullName.StartsWith("labels/train/")).ToDictionary(e => e.FullName["labels/train/".Length..], e => Lines(e));
        Assert.Equal(new[] { "big_0_0.txt", "big_1024_0.txt", "big_3584_0.txt", "big_512_0.txt", "small_0_0.txt", "small_0_60.txt", "small_360_0.txt", "small_360_60.txt" },
            labels.Keys.Order(StringComparer.Ordinal).ToArray());
        // class cx cy w h, as fractions of 640.
        AssertLines(labels["big_0_0.txt"], [[0, 200, 175, 200, 150], [0, 570, 350, 140, 100], [1, 620, 150, 40, 100]]);
        AssertLines(labels["big_512_0.txt"], [[0, 94, 350, 188, 100], [1, 138, 150, 100, 100]]);
        AssertLines(labels["big_1024_0.txt"], [[0, 171, 150, 100, 100]]);
        AssertLines(labels["big_3584_0.txt"], [[0, 456, 150, 100, 100]]);
        AssertLines(labels["small_0_0.txt"], [[1, 450, 250, 100, 100]]);
        AssertLines(labels["small_360_60.txt"], [[1, 90, 190, 100, 100]]);

        // Each slice's image is there, 640 square, with the image's pixels at its offset.
        var images = zip.Entries.Where(e => e.FullName.StartsWith("images/train/")).Select(e => e.FullName["images/train/".Length..]).Order(StringComparer.Ordinal);
        Assert.Equal(labels.Keys.Select(k => k.Replace(".txt", ".jpg")).Order(StringComparer.Ordinal), images);
        var border = Decode(zip, "images/train/big_3584_0.jpg");
        Assert.Equal((640, 640), (border.Width, border.Height));
        AssertPixel(border, 200, 300, [220, 40, 40]);  // x 3784: red
        AssertPixel(border, 500, 300, [40, 200, 60]);  // x 4084: green
        var ramp = Decode(zip, "images/train/small_360_60.jpg");
        foreach (int px in new[] { 10, 320, 630 })
        {
            double expected = Math.Floor((360 + px) * 255.0 / 1000);
            AssertPixel(ramp, px, 100, [expected, expected, expected]);
        }

        var summary = JsonDocument.Parse(zip.GetEntry("visionlabel-export.json")!.Open()).RootElement;
        Assert.Equal(2, summary.GetProperty("images").GetInt32());
        Assert.Equal(8, summary.GetProperty("slices").GetInt64());
        Assert.Equal(6, summary.GetProperty("annotations").GetInt64()); // each object counted once, however many slices hold it
        Assert.Contains(summary.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("slice(s) without an object were left out"));
        Assert.Equal(640, summary.GetProperty("filter").GetProperty("slice").GetProperty("size").GetInt32());

        // yolo-segment: the triangle's clipped outline in (0,0), as fractions of 640.
        var segment = await Export(project.Id, "format=yolo-segment&scope=all&slice=640&includeImages=false");
        var roofLine = Lines(segment.GetEntry("labels/train/big_0_0.txt")!).Single(l => l[0] == 1);
        Assert.Equal(Points([600, 100, 640, 100, 640, 160, 600, 200]), Points(roofLine.Skip(1).Select(v => v * 640).ToArray()));
        Assert.Empty(segment.Entries.Where(e => e.FullName.StartsWith("images/")));

        // Bad choices are named.
        foreach (var (query, field) in new[] { ("format=yolo-detect&slice=10", "slice must be"), ("format=yolo-detect&slice=640&sliceOverlap=0.9", "sliceOverlap must be"),
                     ("format=yolo-detect&sliceOverlap=0.2", "sliceOverlap needs slice"), ("format=coco&slice=640", "slice: only the YOLO formats") })
            Assert.Contains(field, (await (await _owner.GetAsync($"/api/projects/{project.Id}/export?{query}")).Problem(400)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Slices_of_images_with_the_same_stem_get_names_of_their_own()
    {
        var project = await (await _owner.PostJson("/api/projects", new { name = "stems", labels = new[] { new { name = "car" } } })).Read<ProjectDto>();
        // a.png and a.jpg (other pixels), 1000 × 700 each: four slices each, which would all be a_{x}_{y}.
        using var form = new MultipartFormDataContent();
        foreach (var (name, shade) in new[] { ("a.png", 40), ("a.jpg", 200) })
        {
            var pixels = new RgbImage(1000, 700);
            Array.Fill(pixels.Pixels, (byte)shade);
            form.Add(new ByteArrayContent(name.EndsWith(".png") ? TestImages.Png(pixels) : ImageCodec.EncodeJpeg(pixels, 95)), "files", name);
        }
        var images = (await (await _owner.PostAsync($"/api/projects/{project.Id}/images", form)).Read<UploadSummary>()).Files.Select(f => f.Image!).ToList();
        foreach (var image in images)
            Assert.Equal(HttpStatusCode.Created, (await _owner.PostJson($"/api/images/{image.Id}/annotations",
                new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 400, y = 200, width = 100, height = 100 } })).StatusCode);
        var zip = await Export(project.Id, "format=yolo-detect&scope=all&slice=640");
        var names = zip.Entries.Select(e => e.FullName).Where(n => n.StartsWith("images/") || n.StartsWith("labels/")).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal(8, names.Count(n => n.StartsWith("images/train/")));
        Assert.Equal(8, names.Count(n => n.StartsWith("labels/train/")));
        Assert.Contains("images/train/a_0_0_2.jpg", names);
        // Each slice image is its own image's: the two shades both appear.
        var shades = names.Where(n => n.StartsWith("images/")).Select(n => Decode(zip, n).Pixels[0]).Distinct().Order().ToList();
        Assert.Equal(2, shades.Count);
    }

    private async Task<ZipArchive> Export(Guid projectId, string query)
    {
        var response = await _owner.GetAsync($"/api/projects/{projectId}/export?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var buffer = new MemoryStream(await response.Content.ReadAsByteArrayAsync());
        return new ZipArchive(buffer, ZipArchiveMode.Read);
    }

    private static List<double[]> Lines(ZipArchiveEntry entry)
    {
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
    }

    /// <summary>Expected lines in pixels of the slice (class, cx, cy, w, h), in any order.</summary>
    private static void AssertLines(List<double[]> actual, double[][] expectedPixels)
    {
        Assert.Equal(expectedPixels.Length, actual.Count);
        foreach (var e in expectedPixels)
            Assert.True(actual.Any(a => a[0] == e[0] && Enumerable.Range(1, 4).All(i => Math.Abs(a[i] * 640 - e[i]) < 0.01)),
                $"no line {string.Join(' ', e)} (px) among {string.Join(" | ", actual.Select(a => string.Join(' ', a.Select((v, i) => i == 0 ? v : Math.Round(v * 640, 2)))))}");
    }

    private static RgbImage Decode(ZipArchive zip, string name)
    {
        using var stream = zip.GetEntry(name)!.Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return ImageCodec.Decode(buffer.ToArray(), ImageFormat.Jpeg);
    }

    private static void AssertPixel(RgbImage image, int x, int y, double[] expected)
    {
        int p = (y * image.Width + x) * 3;
        for (int c = 0; c < 3; c++)
            Assert.True(Math.Abs(image.Pixels[p + c] - expected[c]) <= 12, $"pixel ({x},{y}) channel {c}: {image.Pixels[p + c]}, expected {expected[c]}");
    }

    private async Task<ImageDto> UploadAndWaitForPyramid(Guid projectId, string name, string path)
    {
        using var form = new MultipartFormDataContent { { new StreamContent(File.OpenRead(path)), "files", name } };
        var image = Assert.Single((await (await _owner.PostAsync($"/api/projects/{projectId}/images", form)).Read<UploadSummary>()).Files).Image!;
        var jobs = await (await _owner.GetAsync($"/api/projects/{projectId}/jobs")).Read<List<JobDto>>();
        var job = await _owner.WaitForJob(jobs.Single(j => j.Kind == PyramidJob.JobKind).Id, seconds: 300);
        Assert.True(job.Status == JobStatus.Completed, $"the pyramid job is {job.Status}: {job.LastError}");
        return image;
    }
}
