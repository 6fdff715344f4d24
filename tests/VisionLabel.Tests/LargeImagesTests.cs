using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Xml.Linq;
using NetVips;
using Image = NetVips.Image;
using VisionLabel.Imaging;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Jobs;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Very large images (issue 26, docs/large-images.md): a generated 20,000 × 20,000 JPEG and a pyramidal TIFF are
/// uploaded (checked in strips, not decoded whole), a job cuts each into a Deep Zoom pyramid in the blob store (the local
/// folder; the S3 server in the subclass), and the descriptor, the tiles (the right pixels at the right place) and the
/// thumbnail come from it with immutable cache headers. Hostile TIFFs are refused by name.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class LargeImagesTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!;

    protected virtual Dictionary<string, string?> Storage() => [];
    protected virtual bool OriginalsRedirect => false;

    public ValueTask InitializeAsync()
    {
        var settings = new Dictionary<string, string?>(Storage()) { ["VisionLabel:Jobs:PollInterval"] = "00:00:00.200" };
        _app = new VisionLabelApp(_data.Path, settings);
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

    /// <summary>Four quadrants of known colours (red, green, blue, white) at full size, written by libvips in strips.</summary>
    private static readonly double[][] Colours = [[220, 40, 40], [40, 200, 60], [40, 60, 220], [250, 250, 250]];

    internal static void Quadrants(int width, int height, Func<Image, string> save)
    {
        using var x = Image.Xyz(width, height);
        using var right = x[0] >= width / 2;
        using var bottom = x[1] >= height / 2;
        using var top = right.Ifthenelse(Colours[1], Colours[0]);
        using var low = right.Ifthenelse(Colours[3], Colours[2]);
        using var image = bottom.Ifthenelse(low, top).Cast(Enums.BandFormat.Uchar);
        save(image);
    }

    private static double[] Quadrant(double fx, double fy) => Colours[(fy >= 0.5 ? 2 : 0) + (fx >= 0.5 ? 1 : 0)];

    private async Task<ImageDto> UploadAndWaitForPyramid(Guid projectId, string name, string path)
    {
        using var form = new MultipartFormDataContent();
        var file = new StreamContent(File.OpenRead(path));
        form.Add(file, "files", name);
        var summary = await (await _owner.PostAsync($"/api/projects/{projectId}/images", form)).Read<UploadSummary>();
        var image = Assert.Single(summary.Files).Image!;
        Assert.False(image.Tiled); // the pyramid comes from a job
        var jobs = await (await _owner.GetAsync($"/api/projects/{projectId}/jobs")).Read<List<JobDto>>();
        var job = jobs.Single(j => j.Kind == PyramidJob.JobKind && j.CreatedAt >= image.CreatedAt.AddSeconds(-1));
        job = await _owner.WaitForJob(job.Id, seconds: 300);
        Assert.True(job.Status == JobStatus.Completed, $"the pyramid job is {job.Status}: {job.LastError}");
        Assert.True(job.Total > 0 && job.Done == job.Total, $"progress {job.Done} of {job.Total} tiles");
        var read = await (await _owner.GetAsync($"/api/images/{image.Id}")).Read<ImageDto>();
        Assert.True(read.Tiled);
        return read;
    }

    /// <summary>The descriptor, then tiles at the top, a middle and the 1×1 level: each has the colours of the quadrants it covers.</summary>
    private async Task CheckPyramid(ImageDto image)
    {
        var dziResponse = await _owner.GetAsync($"/api/images/{image.Id}/tiles.dzi");
        Assert.Equal(HttpStatusCode.OK, dziResponse.StatusCode);
        Assert.Contains("immutable", dziResponse.Headers.CacheControl?.ToString());
        var dzi = DeepZoom.Parse(await dziResponse.Content.ReadAsStreamAsync());
        Assert.Equal((image.Width, image.Height, 254, 1), (dzi.Width, dzi.Height, dzi.TileSize, dzi.Overlap));
        foreach (int level in new[] { dzi.MaxLevel, dzi.MaxLevel - 3, 0 })
        {
            var (lw, lh) = dzi.LevelSize(level);
            int cols = (lw + dzi.TileSize - 1) / dzi.TileSize, rows = (lh + dzi.TileSize - 1) / dzi.TileSize;
            // A tile well inside each quadrant (the 1×1 level has one).
            foreach (var (fx, fy) in new[] { (0.2, 0.2), (0.8, 0.2), (0.2, 0.8), (0.8, 0.8) })
            {
                int col = Math.Min(cols - 1, (int)(fx * lw) / dzi.TileSize), row = Math.Min(rows - 1, (int)(fy * lh) / dzi.TileSize);
                var tile = await _owner.GetAsync($"/api/images/{image.Id}/tiles/{level}/{col}_{row}.jpg");
                Assert.Equal(HttpStatusCode.OK, tile.StatusCode);
                Assert.Equal("image/jpeg", tile.Content.Headers.ContentType?.MediaType);
                Assert.Contains("immutable", tile.Headers.CacheControl?.ToString());
                var bytes = await tile.Content.ReadAsByteArrayAsync();
                var rgb = ImageCodec.Decode(bytes, ImageFormat.Jpeg);
                Assert.True(rgb.Width <= dzi.TileSize + 2 && rgb.Height <= dzi.TileSize + 2, $"tile {level}/{col}_{row} is {rgb.Width}×{rgb.Height}");
                if (level == 0) continue; // 1×1: the four colours blended
                // The tile's centre pixel, in the image: its quadrant's colour (JPEG: within a few levels).
                double cx = (col * dzi.TileSize + rgb.Width / 2.0) / lw, cy = (row * dzi.TileSize + rgb.Height / 2.0) / lh;
                if (Math.Abs(cx - 0.5) < 0.02 || Math.Abs(cy - 0.5) < 0.02) continue; // on a border
                int p = ((rgb.Height / 2) * rgb.Width + rgb.Width / 2) * 3;
                var expected = Quadrant(cx, cy);
                for (int c = 0; c < 3; c++)
                    Assert.True(Math.Abs(rgb.Pixels[p + c] - expected[c]) <= 12, $"tile {level}/{col}_{row} centre channel {c}: {rgb.Pixels[p + c]}, expected {expected[c]}");
            }
        }
        // Outside the pyramid, and not a tile name: refused by name.
        Assert.Equal(HttpStatusCode.NotFound, (await _owner.GetAsync($"/api/images/{image.Id}/tiles/{dzi.MaxLevel}/999_999.jpg")).StatusCode);
        var bad = await (await _owner.GetAsync($"/api/images/{image.Id}/tiles/{dzi.MaxLevel}/..%2F..%2Fsecret")).Problem(400);
        Assert.True(bad.GetProperty("errors").TryGetProperty("tile", out _));
        bad = await (await _owner.GetAsync($"/api/images/{image.Id}/tiles/99/0_0.jpg")).Problem(400);
        Assert.True(bad.GetProperty("errors").TryGetProperty("level", out _));

        // The thumbnail is the pyramid's largest one-tile level.
        var thumb = ImageCodec.Decode(await _owner.GetByteArrayAsync($"/api/images/{image.Id}/thumbnail"), ImageFormat.Jpeg);
        Assert.InRange(Math.Max(thumb.Width, thumb.Height), dzi.TileSize / 2, dzi.TileSize);
    }

    [Fact]
    public async Task A_20000_square_jpeg_is_taken_in_strips_and_served_as_a_pyramid()
    {
        string path = Path.Combine(_data.Path, "huge.jpg");
        var made = Stopwatch.StartNew();
        Quadrants(20_000, 20_000, image => { image.Jpegsave(path, q: 80); return path; });
        var project = await (await _owner.PostJson("/api/projects", new { name = "large", labels = new[] { new { name = "thing" } } })).Read<VisionLabel.Server.Projects.ProjectDto>();
        var image = await UploadAndWaitForPyramid(project.Id, "huge.jpg", path);
        Assert.Equal((20_000, 20_000, "jpeg"), (image.Width, image.Height, image.Format));
        await CheckPyramid(image);

        // The interactive tools read their window from the full-resolution tiles: the live-wire from a point near the
        // red/green border (x = 10,000) to another follows that border, so the tiles are read at the right place.
        var scissors = await (await _owner.PostJson($"/api/images/{image.Id}/scissors", new { anchor = new { x = 9995, y = 3000 }, targets = new[] { new { x = 9995, y = 3200 } } })).Read<JsonElement>();
        var wire = scissors.GetProperty("paths")[0].EnumerateArray().Select(v => v.GetInt32()).ToArray();
        Assert.True(wire.Length >= 2 * 150, $"a path of {wire.Length / 2} points");
        Assert.All(wire.Where((_, i) => i % 2 == 0), x => Assert.InRange(x, 9990, 10005));
        // Segment reads its crop the same way: a box over the meeting point of the quadrants gives an answer, not a 409.
        var segment = await _owner.PostJson($"/api/images/{image.Id}/segment", new { box = new { x = 9_000, y = 9_000, width = 2000, height = 2000 }, method = "grabcut" });
        Assert.True(segment.StatusCode is HttpStatusCode.OK or HttpStatusCode.UnprocessableEntity, $"segment answered {(int)segment.StatusCode}: {await segment.Content.ReadAsStringAsync()}");

        // A small image has no pyramid, and says why.
        var (_, small) = await _owner.ProjectWithImage("small", ["a"], 64, 48);
        var none = await (await _owner.GetAsync($"/api/images/{small.Id}/tiles.dzi")).Problem(404);
        Assert.Contains("shown whole", none.GetProperty("detail").GetString());
        TestContext.Current.SendDiagnosticMessage($"20k² JPEG: made, uploaded and cut in {made.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task A_pyramidal_tiff_is_accepted_and_served_as_a_pyramid_and_hostile_tiffs_are_refused_by_name()
    {
        string path = Path.Combine(_data.Path, "slide.tif");
        Quadrants(6_000, 4_500, image => { image.Tiffsave(path, tile: true, pyramid: true, compression: Enums.ForeignTiffCompression.Jpeg, tileWidth: 256, tileHeight: 256); return path; });
        var project = await (await _owner.PostJson("/api/projects", new { name = "tiff", labels = new[] { new { name = "cell" } } })).Read<VisionLabel.Server.Projects.ProjectDto>();
        var image = await UploadAndWaitForPyramid(project.Id, "slide.tif", path);
        Assert.Equal((6_000, 4_500, "tiff"), (image.Width, image.Height, image.Format));
        await CheckPyramid(image);
        if (!OriginalsRedirect) // the S3 store hands out a presigned URL instead
            Assert.Equal("image/tiff", (await _owner.GetAsync($"/api/images/{image.Id}/original")).Content.Headers.ContentType?.MediaType);

        // Hostile TIFFs: a directory outside the file, a bomb over the pixel limit, a header with no image data, a
        // directory with a million entries, and a file whose header says one size and whose data another.
        byte[] good = await File.ReadAllBytesAsync(path);
        byte[] outside = [.. "II*\0"u8, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0];
        byte[] bomb = TiffHeaderOnly(100_000, 100_000);
        byte[] headerOnly = TiffHeaderOnly(3000, 2000);
        byte[] manyEntries = [.. "II*\0"u8, 8, 0, 0, 0, 0xFF, 0xFF, 0, 0];
        byte[] truncated = good[..(good.Length / 3)];
        using var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in new[] { ("outside.tif", outside), ("bomb.tif", bomb), ("header.tif", headerOnly), ("entries.tif", manyEntries), ("cut.tif", truncated) })
            form.Add(new ByteArrayContent(bytes), "files", name);
        var problem = await (await _owner.PostAsync($"/api/projects/{project.Id}/images", form)).Problem(400);
        var errors = problem.GetProperty("errors");
        Assert.Contains("outside the file", errors.GetProperty("outside.tif")[0].GetString());
        Assert.Contains("megapixel limit", errors.GetProperty("bomb.tif")[0].GetString());
        Assert.Contains("TIFF", errors.GetProperty("header.tif")[0].GetString());
        Assert.Contains("entries", errors.GetProperty("entries.tif")[0].GetString());
        Assert.Contains("TIFF", errors.GetProperty("cut.tif")[0].GetString());
        Assert.Equal(0, problem.GetProperty("created").GetInt32());
    }

    /// <summary>A little-endian TIFF with one directory (width, height, 8-bit RGB, strips) and no pixel data.</summary>
    private static byte[] TiffHeaderOnly(int width, int height)
    {
        var b = new List<byte>();
        b.AddRange("II*\0"u8.ToArray());
        b.AddRange(BitConverter.GetBytes(8));
        (ushort Tag, ushort Type, uint Value)[] entries = [(256, 4, (uint)width), (257, 4, (uint)height), (258, 3, 8), (259, 3, 1), (262, 3, 2), (273, 4, 200), (277, 3, 3), (278, 4, (uint)height), (279, 4, (uint)((long)width * height * 3 % uint.MaxValue))];
        b.AddRange(BitConverter.GetBytes((ushort)entries.Length));
        foreach (var (tag, type, value) in entries)
        {
            b.AddRange(BitConverter.GetBytes(tag));
            b.AddRange(BitConverter.GetBytes(type));
            b.AddRange(BitConverter.GetBytes(1u));
            b.AddRange(type == 3 ? [.. BitConverter.GetBytes((ushort)value), 0, 0] : BitConverter.GetBytes(value));
        }
        b.AddRange(BitConverter.GetBytes(0u));
        return [.. b];
    }
}

/// <summary>The same on the S3 server: the pyramid's tiles stored and served from the bucket.</summary>
public sealed class LargeImagesTestsOnS3 : LargeImagesTests
{
    protected override Dictionary<string, string?> Storage() => S3Server.Settings(S3Server.RequireBucket());
    protected override bool OriginalsRedirect => true;
}
