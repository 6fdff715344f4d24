using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Imaging;
using VisionLabel.Server.Images;
using VisionLabel.Server.Maintenance;
using VisionLabel.Server.Projects;
using VisionLabel.Server.Storage;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>Nothing is left behind: temp files a crash leaves, and blobs no image or model references any more.</summary>
[Trait("Tier", Tiers.Api)]
public class MaintenanceTests
{
    private static async Task<ProjectDto> NewProject(HttpClient http, string name) =>
        await (await http.PostJson("/api/projects", new { name })).Read<ProjectDto>();

    private static async Task<ImageDto> Upload(HttpClient http, Guid projectId, string name, byte[] bytes) =>
        (await (await http.PostAsync($"/api/projects/{projectId}/images", HttpExtensions.Files((name, bytes)))).Read<UploadSummary>()).Files[0].Image!;

    [Fact]
    public async Task Deleted_images_and_projects_lose_their_blobs_after_the_grace_period_unless_something_still_uses_them()
    {
        using var data = new TempDirectory();
        byte[] shared = ImageCodec.EncodeJpeg(TestImages.Quadrants(120, 80)), alone = ImageCodec.EncodeJpeg(TestImages.Quadrants(121, 80));
        byte[] kept = ImageCodec.EncodeJpeg(TestImages.Quadrants(122, 80));
        string Blob(ImageDto i) => Path.Combine(data.Path, "blobs", BlobKeys.Original(i.ContentHash));
        string Thumb(ImageDto i) => Path.Combine(data.Path, "blobs", BlobKeys.Thumbnail(i.ContentHash, 256));
        ImageDto inA, inB, lone, keeper;
        using (var app = new VisionLabelApp(data.Path))
        {
            var http = app.Client();
            var a = await NewProject(http, "a");
            var b = await NewProject(http, "b");
            inA = await Upload(http, a.Id, "shared.jpg", shared);
            inB = await Upload(http, b.Id, "shared.jpg", shared);
            lone = await Upload(http, b.Id, "alone.jpg", alone);
            keeper = await Upload(http, (await NewProject(http, "c")).Id, "kept.jpg", kept);
            foreach (var i in new[] { inA, lone, keeper }) Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/images/{i.Id}/thumbnail")).StatusCode);

            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/images/{inA.Id}")).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/projects/{b.Id}")).StatusCode);
            // Inside the grace period (default one hour): nothing goes, even what nothing references.
            var report = await app.Services.GetRequiredService<MaintenanceSweeper>().SweepAsync(TestContext.Current.CancellationToken);
            Assert.Equal(0, report.Blobs);
            Assert.True(File.Exists(Blob(lone)) && File.Exists(Blob(inA)));
        }
        using (var app = new VisionLabelApp(data.Path, new Dictionary<string, string?> { ["VisionLabel:Maintenance:BlobGracePeriod"] = "00:00:00" }))
        {
            // The start-up sweep (run before the server serves) removed shared.jpg's and alone.jpg's originals and the
            // thumbnail made of shared.jpg; a second sweep finds nothing more.
            var report = await app.Services.GetRequiredService<MaintenanceSweeper>().SweepAsync(TestContext.Current.CancellationToken);
            Assert.Equal(0, report.Blobs);
            Assert.False(File.Exists(Blob(inA)) || File.Exists(Thumb(inA)) || File.Exists(Blob(lone)));
            Assert.True(File.Exists(Blob(keeper)) && File.Exists(Thumb(keeper)));
            var http = app.Client();
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/images/{keeper.Id}/original")).StatusCode);
            // The same content uploaded again is stored again.
            var again = await Upload(http, (await NewProject(http, "d")).Id, "shared.jpg", shared);
            Assert.Equal(shared, await (await http.GetAsync($"/api/images/{again.Id}/original")).Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public async Task A_deleted_image_s_tile_pyramid_goes_after_the_grace_period()
    {
        using var data = new TempDirectory();
        // Every image over 1,000 px gets a pyramid here, so a small one will do.
        var settings = new Dictionary<string, string?> { ["VisionLabel:Images:PyramidAbovePixels"] = "1000", ["VisionLabel:Jobs:PollInterval"] = "00:00:00.200" };
        string folder;
        using (var app = new VisionLabelApp(data.Path, settings))
        {
            var http = app.Client();
            var project = await NewProject(http, "tiles");
            var image = await Upload(http, project.Id, "small.jpg", ImageCodec.EncodeJpeg(TestImages.Quadrants(600, 400)));
            var job = (await (await http.GetAsync($"/api/projects/{project.Id}/jobs")).Read<List<VisionLabel.Server.Jobs.JobDto>>()).Single(j => j.Kind == "pyramid");
            Assert.Equal(VisionLabel.Server.Data.JobStatus.Completed, (await http.WaitForJob(job.Id)).Status);
            folder = Path.Combine(data.Path, "blobs", BlobKeys.PyramidFolder(image.ContentHash));
            Assert.True(File.Exists(Path.Combine(folder, "tiles.dzi")));
            Assert.True(Directory.GetFiles(folder, "*.jpg", SearchOption.AllDirectories).Length > 5);
            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/images/{image.Id}")).StatusCode);
            // Inside the grace period (its descriptor touched by the delete): kept.
            await app.Services.GetRequiredService<MaintenanceSweeper>().SweepAsync(TestContext.Current.CancellationToken);
            Assert.True(File.Exists(Path.Combine(folder, "tiles.dzi")));
        }
        settings["VisionLabel:Maintenance:BlobGracePeriod"] = "00:00:00";
        using (var app = new VisionLabelApp(data.Path, settings))
        {
            // The start-up sweep removed every tile and the descriptor; a second finds nothing.
            Assert.Equal(0, (await app.Services.GetRequiredService<MaintenanceSweeper>().SweepAsync(TestContext.Current.CancellationToken)).Blobs);
            Assert.Empty(Directory.Exists(folder) ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories) : []);
        }
    }

    [Fact]
    public async Task Stale_temp_files_are_swept_and_fresh_ones_kept()
    {
        using var data = new TempDirectory();
        using var app = new VisionLabelApp(data.Path);
        _ = app.Client(); // starts the server, which creates its folders
        string tmp = Path.Combine(data.Path, "tmp"), staging = Path.Combine(data.Path, "blobs", ".staging");
        Directory.CreateDirectory(tmp);
        string stale = Path.Combine(tmp, "old.upload"), fresh = Path.Combine(tmp, "new.upload"), staged = Path.Combine(staging, "half");
        foreach (var f in new[] { stale, fresh, staged }) File.WriteAllText(f, "x");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddDays(-1));
        File.SetLastWriteTimeUtc(staged, DateTime.UtcNow.AddDays(-1));
        var report = await app.Services.GetRequiredService<MaintenanceSweeper>().SweepAsync(TestContext.Current.CancellationToken);
        Assert.Equal((1, 1), (report.TempFiles, report.StagingFiles));
        Assert.Equal([fresh], Directory.GetFiles(tmp));
        Assert.Empty(Directory.GetFiles(staging));
    }

    /// <summary>A request body that sends its first megabyte, then never finishes: an upload in flight.</summary>
    private sealed class StalledBody(TaskCompletionSource sent) : Stream
    {
        private long _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_position >= 1 << 20)
            {
                sent.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            }
            int n = (int)Math.Min(buffer.Length, (1 << 20) - _position);
            buffer.Span[..n].Fill(0xAB);
            _position += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task A_server_killed_mid_upload_leaves_no_temp_file_after_restart()
    {
        using var data = new TempDirectory();
        string url = $"http://127.0.0.1:{ServeCommandTests.FreePort()}";
        var server = await ServeCommandTests.Serve(url, data.Path);
        string tmp = Path.Combine(data.Path, "tmp");
        try
        {
            using var http = TestAccounts.Client(url, await TestAccounts.TokenAsync(data.Path, []));
            var project = await NewProject(http, "uploads");
            Directory.CreateDirectory(tmp);
            using var watcher = new FileSystemWatcher(tmp) { EnableRaisingEvents = true };
            var spooling = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            watcher.Created += (_, e) => spooling.TrySetResult(e.FullPath);
            var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var form = new MultipartFormDataContent { { new StreamContent(new StalledBody(sent)), "file", "big.jpg" } };
            using var cts = new CancellationTokenSource();
            var upload = http.PostAsync($"/api/projects/{project.Id}/images", form, cts.Token);
            string spool = await spooling.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await sent.Task.WaitAsync(TimeSpan.FromSeconds(30));

            Process.Start("kill", ["-KILL", server.Id.ToString()])!.WaitForExit();
            await server.WaitForExitAsync(TestContext.Current.CancellationToken);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<Exception>(() => upload);
            Assert.True(File.Exists(spool), "the killed server left its temp upload behind");
        }
        finally { if (!server.HasExited) server.Kill(entireProcessTree: true); }

        // Restarted with a zero age: the start-up sweep runs before the server answers /health.
        server = await ServeCommandTests.Serve(url, data.Path, "--VisionLabel:Maintenance:TempMaxAge=00:00:00");
        try
        {
            Assert.Empty(Directory.GetFiles(tmp));
            Assert.Empty(Directory.GetFiles(Path.Combine(data.Path, "blobs", ".staging")));
        }
        finally { server.Kill(entireProcessTree: true); }
    }
}
