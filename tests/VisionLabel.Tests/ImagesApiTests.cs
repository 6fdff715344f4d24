using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using VisionLabel.Imaging;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

[Trait("Tier", Tiers.Api)]
public class ImagesApiTests : IDisposable
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app;
    private HttpClient _http;

    public ImagesApiTests()
    {
        _app = new VisionLabelApp(_data.Path, new Dictionary<string, string?> { ["VisionLabel:Images:MaxPixels"] = "100000000" });
        _http = _app.Client("image-owner", admin: false);
    }

    public void Dispose()
    {
        _app.Dispose();
        _data.Dispose();
    }

    private async Task<ProjectDto> NewProject(string name = "p") =>
        await (await _http.PostJson("/api/projects", new { name, labels = new[] { new { name = "thing" } } })).Read<ProjectDto>();

    private Task<HttpResponseMessage> Upload(Guid projectId, params (string, byte[])[] files) =>
        _http.PostAsync($"/api/projects/{projectId}/images", HttpExtensions.Files(files));

    [Fact]
    public async Task Coco128_upload_records_true_sizes_serves_thumbnails_and_originals_and_survives_restart()
    {
        var paths = Directory.GetFiles(SharedData.Require("datasets/coco128/images/train2017"), "*.jpg").Order().ToArray();
        var project = await NewProject("coco128");
        var summary = await (await Upload(project.Id, paths.Select(p => (Path.GetFileName(p), File.ReadAllBytes(p))).ToArray())).Read<UploadSummary>();

        // Any files with identical bytes are reported as duplicates, not stored twice.
        var distinct = paths.GroupBy(p => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(p)))).ToList();
        Assert.Equal(distinct.Count, summary.Created);
        Assert.Equal(paths.Length - distinct.Count, summary.Duplicates);
        Assert.Equal(0, summary.Rejected);

        // Width/height for each file agree with a full decode by libjpeg-turbo.
        foreach (var file in summary.Files.Where(f => f.Outcome == UploadOutcome.Created))
        {
            var decoded = ImageCodec.Decode(File.ReadAllBytes(paths.Single(p => Path.GetFileName(p) == file.FileName)), ImageFormat.Jpeg);
            Assert.True((decoded.Width, decoded.Height) == (file.Image!.Width, file.Image.Height), file.FileName);
            Assert.Equal("jpeg", file.Image.Format);
            Assert.Equal(ImageStatus.New, file.Image.Status);
        }

        var page = await (await _http.GetAsync($"/api/projects/{project.Id}/images?limit=1000")).Read<ImagePage>();
        Assert.Equal(distinct.Count, page.Total);
        var sample = page.Items.Take(12).ToList();
        foreach (var image in sample)
        {
            var response = await _http.GetAsync($"/api/images/{image.Id}/thumbnail");
            Assert.Equal("image/jpeg", response.Content.Headers.ContentType?.MediaType);
            var thumb = ImageCodec.Decode(await response.Content.ReadAsByteArrayAsync(), ImageFormat.Jpeg);
            Assert.Equal(256, Math.Max(thumb.Width, thumb.Height));
            Assert.InRange(thumb.Width / (double)thumb.Height, image.Width / (double)image.Height * 0.97, image.Width / (double)image.Height * 1.03);
        }

        // Restart on the same data directory: rows, originals and cached thumbnails are all still there.
        _app.Dispose();
        _app = new VisionLabelApp(_data.Path);
        _http = _app.Client("image-owner", admin: false);
        var after = await (await _http.GetAsync($"/api/projects/{project.Id}/images?limit=1000")).Read<ImagePage>();
        Assert.Equal(page.Items.Select(i => (i.Id, i.Width, i.Height, i.ContentHash)), after.Items.Select(i => (i.Id, i.Width, i.Height, i.ContentHash)));
        foreach (var image in sample)
        {
            byte[] original = await _http.GetByteArrayAsync($"/api/images/{image.Id}/original");
            Assert.Equal(image.ContentHash, Convert.ToHexStringLower(SHA256.HashData(original)));
            Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync($"/api/images/{image.Id}/thumbnail")).StatusCode);
        }
    }

    [Fact]
    public async Task Bad_files_are_refused_by_name_and_the_good_ones_in_the_same_request_still_land()
    {
        var project = await NewProject();
        byte[] good = ImageCodec.EncodeJpeg(TestImages.Quadrants(64, 48));
        byte[] truncated = ImageCodec.EncodeJpeg(TestImages.Quadrants(640, 480))[..3000];
        byte[] pngBomb = TestImages.PngHeaderOnly(30000, 30000);
        byte[] goodPng = TestImages.Png(TestImages.Quadrants(30, 20));

        var response = await Upload(project.Id,
            ("good.jpg", good), ("truncated.jpg", truncated), ("notes.jpg", "this is a text file"u8.ToArray()),
            ("bomb.png", pngBomb), ("empty.jpg", []), ("small.png", goodPng));
        var problem = await response.Problem(400);

        var errors = problem.GetProperty("errors");
        Assert.Contains("truncated JPEG", errors.GetProperty("truncated.jpg")[0].GetString());
        Assert.Contains("not a JPEG, PNG, WebP or TIFF", errors.GetProperty("notes.jpg")[0].GetString());
        Assert.Contains("30000x30000", errors.GetProperty("bomb.png")[0].GetString());
        Assert.Contains("megapixel limit", errors.GetProperty("bomb.png")[0].GetString());
        Assert.Contains("empty", errors.GetProperty("empty.jpg")[0].GetString());
        Assert.Equal(2, problem.GetProperty("created").GetInt32());
        Assert.Equal(4, problem.GetProperty("rejected").GetInt32());

        var page = await (await _http.GetAsync($"/api/projects/{project.Id}/images")).Read<ImagePage>();
        Assert.Equal(["good.jpg", "small.png"], page.Items.Select(i => i.FileName).Order());
        Assert.Equal((30, 20, "png"), page.Items.Where(i => i.FileName == "small.png").Select(i => (i.Width, i.Height, i.Format)).Single());
        // Nothing of the refused files is left in the temp folder.
        Assert.Empty(Directory.GetFiles(Path.Combine(_data.Path, "tmp")));
    }

    /// <summary>A JPEG whose header, markers and end are intact but whose entropy-coded scan has a burst of garbage.</summary>
    private static byte[] GarbledJpeg()
    {
        var jpeg = ImageCodec.EncodeJpeg(TestImages.Quadrants(640, 480));
        int sos = 0;
        for (int i = 2; i < jpeg.Length - 1; i++) if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) { sos = i; break; }
        int start = sos + (jpeg.Length - sos) / 2;
        var random = new Random(7);
        for (int i = start; i < start + 400; i++) jpeg[i] = (byte)random.Next(0, 0xFF); // no 0xFF: no fake markers
        jpeg[start + 400] = 0xFF; jpeg[start + 401] = 0xD3; // and an RST marker where none belongs
        return jpeg;
    }

    /// <summary>A PNG whose IDAT chunk fails its CRC (the data intact, one bit of the stored CRC flipped).</summary>
    private static byte[] PngWithBadCrc()
    {
        var png = TestImages.Png(TestImages.Quadrants(64, 48));
        int idat = 8;
        while (System.Text.Encoding.ASCII.GetString(png, idat + 4, 4) != "IDAT") idat += 12 + System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(idat));
        int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(idat));
        png[idat + 8 + length] ^= 0x01; // the CRC field after the chunk's data
        return png;
    }

    [Fact]
    public async Task Intake_decodes_the_whole_image_so_garbled_scan_data_and_bad_crcs_are_refused_at_upload()
    {
        var project = await NewProject();
        byte[] good = ImageCodec.EncodeJpeg(TestImages.Quadrants(64, 48));
        var garbled = GarbledJpeg();
        ImageHeaderReader.Read(new MemoryStream(garbled)); // the header alone looks fine
        var problem = await (await Upload(project.Id, ("garbled.jpg", garbled), ("bad-crc.png", PngWithBadCrc()), ("good.jpg", good))).Problem(400);
        var errors = problem.GetProperty("errors");
        Assert.Contains("corrupt JPEG", errors.GetProperty("garbled.jpg")[0].GetString());
        Assert.Contains("CRC", errors.GetProperty("bad-crc.png")[0].GetString(), StringComparison.OrdinalIgnoreCase);
        var page = await (await _http.GetAsync($"/api/projects/{project.Id}/images")).Read<ImagePage>();
        Assert.Equal(["good.jpg"], page.Items.Select(i => i.FileName));
    }

    [Fact]
    public async Task Duplicate_content_is_reported_and_not_stored_twice_but_other_projects_may_hold_it()
    {
        var a = await NewProject("a");
        var b = await NewProject("b");
        byte[] jpeg = ImageCodec.EncodeJpeg(TestImages.Quadrants(100, 80));
        var first = await (await Upload(a.Id, ("x.jpg", jpeg))).Read<UploadSummary>();
        var again = await (await Upload(a.Id, ("renamed.jpg", jpeg), ("x-copy.jpg", jpeg))).Read<UploadSummary>();
        Assert.Equal(2, again.Duplicates);
        Assert.All(again.Files, f => Assert.Equal(first.Files[0].Image!.Id, f.Image!.Id));
        Assert.Equal(1, (await (await _http.GetAsync($"/api/projects/{a.Id}/images")).Read<ImagePage>()).Total);

        var other = await (await Upload(b.Id, ("x.jpg", jpeg))).Read<UploadSummary>();
        Assert.Equal(1, other.Created);
        Assert.Single(Directory.GetFiles(Path.Combine(_data.Path, "blobs", "originals"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Upload_edge_cases_are_client_errors()
    {
        var project = await NewProject();
        await (await _http.PostAsync($"/api/projects/{project.Id}/images", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"))).Problem(415);
        var form = new MultipartFormDataContent { { new StringContent("just a field"), "note" } };
        await (await _http.PostAsync($"/api/projects/{project.Id}/images", form)).Problem(400);
        await (await Upload(Guid.NewGuid(), ("x.jpg", ImageCodec.EncodeJpeg(TestImages.Quadrants(8, 8))))).Problem(404);
        // Client-side paths are cut to the file name.
        var summary = await (await Upload(project.Id, ("../../etc/passwd.jpg", ImageCodec.EncodeJpeg(TestImages.Quadrants(8, 8))))).Read<UploadSummary>();
        Assert.Equal("passwd.jpg", summary.Files[0].FileName);
    }

    [Fact]
    public async Task Webp_and_png_uploads_get_true_sizes_and_thumbnails()
    {
        var project = await NewProject();
        byte[] webp = WebP.Encode(TestImages.Quadrants(300, 120));
        byte[] png = TestImages.Png(TestImages.Quadrants(90, 200));
        var summary = await (await Upload(project.Id, ("a.webp", webp), ("b.png", png))).Read<UploadSummary>();
        Assert.Equal((300, 120, "webp"), (summary.Files[0].Image!.Width, summary.Files[0].Image!.Height, summary.Files[0].Image!.Format));
        Assert.Equal((90, 200, "png"), (summary.Files[1].Image!.Width, summary.Files[1].Image!.Height, summary.Files[1].Image!.Format));
        foreach (var file in summary.Files)
        {
            var thumb = ImageCodec.Decode(await _http.GetByteArrayAsync($"/api/images/{file.Image!.Id}/thumbnail"), ImageFormat.Jpeg);
            Assert.Equal(file.Image.Width > file.Image.Height, thumb.Width > thumb.Height);
            Assert.Equal(Math.Min(256, Math.Max(file.Image.Width, file.Image.Height)), Math.Max(thumb.Width, thumb.Height)); // never enlarged
        }
        var original = await _http.GetAsync($"/api/images/{summary.Files[0].Image!.Id}/original");
        Assert.Equal("image/webp", original.Content.Headers.ContentType?.MediaType);
        Assert.Equal(webp, await original.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Listing_pages_and_filters_by_status()
    {
        var project = await NewProject();
        var files = Enumerable.Range(0, 5).Select(i => ($"{i}.jpg", ImageCodec.EncodeJpeg(TestImages.Quadrants(16 + i, 16)))).ToArray();
        var uploaded = await (await Upload(project.Id, files)).Read<UploadSummary>();
        var firstId = uploaded.Files[0].Image!.Id;
        // Approved without review (a 0% review sample), through PATCH status as through POST …/submit.
        (await _http.PatchJson($"/api/projects/{project.Id}", new { workflow = new { reviewPercent = 0 } })).EnsureSuccessStatusCode();
        Assert.Equal(ImageStatus.Approved, (await (await _http.PatchJson($"/api/images/{firstId}", new { status = "submitted" })).Read<ImageDto>()).Status);

        var page = await (await _http.GetAsync($"/api/projects/{project.Id}/images?offset=1&limit=2")).Read<ImagePage>();
        Assert.Equal((5, 2), (page.Total, page.Items.Count));
        Assert.Equal(["1.jpg", "2.jpg"], page.Items.Select(i => i.FileName));

        var approved = await (await _http.GetAsync($"/api/projects/{project.Id}/images?status=approved")).Read<ImagePage>();
        Assert.Equal(firstId, Assert.Single(approved.Items).Id);
        var inProgress = await (await _http.GetAsync($"/api/projects/{project.Id}/images?status=in-progress")).Read<ImagePage>();
        Assert.Equal(0, inProgress.Total);

        var bad = await (await _http.GetAsync($"/api/projects/{project.Id}/images?status=done")).Problem(400);
        Assert.Contains("in-progress", bad.GetProperty("detail").GetString());
        await (await _http.GetAsync($"/api/projects/{project.Id}/images?limit=0")).Problem(400);
    }

    [Fact]
    public async Task A_stored_file_damaged_after_upload_gets_422_for_its_thumbnail_not_500()
    {
        var project = await NewProject();
        byte[] jpeg = ImageCodec.EncodeJpeg(TestImages.Quadrants(64, 64));
        var summary = await (await Upload(project.Id, ("noise.jpg", jpeg))).Read<UploadSummary>();
        // The storage damages the file: valid markers and an end-of-image marker, but the entropy-coded data is noise.
        int sos = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xDA]);
        var random = new Random(7);
        for (int i = sos + 20; i < jpeg.Length - 2; i++) jpeg[i] = (byte)random.Next(0, 0xFF);
        var blob = Assert.Single(Directory.GetFiles(Path.Combine(_data.Path, "blobs"), summary.Files[0].Image!.ContentHash + "*", SearchOption.AllDirectories));
        await File.WriteAllBytesAsync(blob, jpeg, TestContext.Current.CancellationToken);
        var problem = await (await _http.GetAsync($"/api/images/{summary.Files[0].Image!.Id}/thumbnail")).Problem(422);
        Assert.Contains("noise.jpg", problem.GetProperty("detail").GetString());
    }
}
