using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>The server with VisionLabel:Storage:Provider=s3 against a real S3-protocol server process.</summary>
[Trait("Tier", Tiers.System)]
public class S3StorageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Uploads_thumbnails_and_models_live_in_the_bucket_and_browsers_get_presigned_urls()
    {
        var s3 = S3Server.RequireBucket();
        using var data = new TempDirectory();
        using var app = new VisionLabelApp(data.Path, new Dictionary<string, string?>(S3Server.Settings(s3))
        {
            ["VisionLabel:Jobs:PollInterval"] = "00:00:00.200", ["VisionLabel:Inference:Device"] = "cpu",
        });
        var http = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", app.Token());
        using var direct = new HttpClient(); // what a browser does with the redirect: fetch from the store itself

        var health = JsonDocument.Parse(await http.GetStringAsync("/health", Ct)).RootElement;
        Assert.Equal(("s3", true, s3.Bucket), (health.GetProperty("storage").GetString(), health.GetProperty("storageReachable").GetBoolean(), health.GetProperty("bucket").GetString()));

        var model = await (await http.UploadModel("yolox_nano-416.onnx", File.ReadAllBytes(SharedData.Require("models/yolox_nano-416.onnx")),
            File.ReadAllText(SharedData.Require("models/yolox_nano-416.coco_classes.txt")))).Read<ModelDto>();
        var project = await (await http.PostJson("/api/projects", new { name = "s3", labels = model.ClassNames.Select(n => new { name = n }) })).Read<ProjectDto>();
        var files = Directory.GetFiles(SharedData.Require("datasets/coco128/images/train2017"), "*.jpg").Order().Take(3).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
        await (await http.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(files), Ct)).Read<UploadSummary>();
        var images = (await (await http.GetAsync($"/api/projects/{project.Id}/images", Ct)).Read<ImagePage>()).Items.OrderBy(i => i.FileName).ToList();

        // The original: a redirect to a presigned URL on the store, which serves the uploaded bytes as an image.
        var original = await http.GetAsync($"/api/images/{images[0].Id}/original", Ct);
        Assert.Equal(HttpStatusCode.Redirect, original.StatusCode);
        var location = original.Headers.Location!;
        Assert.Equal(s3.Endpoint, location.Authority);
        Assert.Contains("X-Amz-Signature=", location.Query);
        var fromStore = await direct.GetAsync(location, Ct);
        Assert.Equal(files[0].Item2, await fromStore.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal("image/jpeg", fromStore.Content.Headers.ContentType?.MediaType);

        // A thumbnail is made and streamed once, then served from the store.
        var first = await http.GetAsync($"/api/images/{images[0].Id}/thumbnail", Ct);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var thumbnail = await first.Content.ReadAsByteArrayAsync(Ct);
        var again = await http.GetAsync($"/api/images/{images[0].Id}/thumbnail", Ct);
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.Equal(thumbnail, await direct.GetByteArrayAsync(again.Headers.Location!, Ct));

        // Pre-labeling reads the model and the images from the bucket.
        var job = await (await http.PostJson($"/api/projects/{project.Id}/prelabel", new { modelId = model.Id })).Read<JobDto>();
        job = await http.WaitForJob(job.Id, seconds: 60);
        Assert.Equal((JobStatus.Completed, 3, 0), (job.Status, job.Done, job.Failed));

        // Nothing went to the local blob folder.
        string local = Path.Combine(data.Path, "blobs");
        Assert.True(!Directory.Exists(local) || Directory.GetFiles(local, "*", SearchOption.AllDirectories).Length == 0,
            $"files under {local}: {string.Join(", ", Directory.Exists(local) ? Directory.GetFiles(local, "*", SearchOption.AllDirectories) : [])}");
    }

    [Fact]
    public async Task Without_presigned_urls_the_server_streams_and_answers_ranges_from_the_store()
    {
        var s3 = S3Server.RequireBucket();
        using var data = new TempDirectory();
        using var app = new VisionLabelApp(data.Path, new Dictionary<string, string?>(S3Server.Settings(s3)) { ["VisionLabel:Storage:S3:PresignedUrls"] = "false" });
        var http = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", app.Token());
        var (_, image) = await http.ProjectWithImage("streamed", ["a"], 640, 480);
        byte[] whole = await http.GetByteArrayAsync($"/api/images/{image.Id}/original", Ct);
        Assert.Equal(image.SizeBytes, whole.Length);

        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/images/{image.Id}/original");
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(1000, 1999);
        var part = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(whole[1000..2000], await part.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/images/{image.Id}/thumbnail", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/images/{image.Id}/thumbnail", Ct)).StatusCode); // from the store, through the server
    }

    [Fact, Trait("Tier", Tiers.Browser)]
    public async Task The_editor_in_a_browser_loads_the_photo_from_the_store()
    {
        var s3 = S3Server.RequireBucket();
        using var data = new TempDirectory();
        string url = $"http://127.0.0.1:{ServeCommandTests.FreePort()}";
        string[] settings = [.. S3Server.Settings(s3).Select(kv => $"--{kv.Key}={kv.Value}")];
        var server = await ServeCommandTests.Serve(url, data.Path, settings);
        try
        {
            using var http = TestAccounts.Client(url, await TestAccounts.ProvisionAsync(data.Path, settings, "tester", "alice"));
            var (_, image) = await http.ProjectWithImage("browser-s3", ["a"], 800, 600);
            await using var browser = await Browser.LaunchAsync();
            var page = await browser.NewPageAsync();
            var failed = new System.Collections.Concurrent.ConcurrentQueue<string>();
            page.Response += (_, r) => { if (r.Status >= 400) failed.Enqueue($"{r.Status} {r.Url}"); };
            var fromStore = page.WaitForResponseAsync(r => r.Url.StartsWith($"http://{s3.Endpoint}/{s3.Bucket}/originals/") && r.Status == 200);
            await page.SignInAsync(url, "alice", $"/images/{image.Id}");
            var response = await fromStore;
            Assert.Equal("image/jpeg", await response.HeaderValueAsync("content-type"));
            await page.WaitForCanvas("[data-ready='true']");
            Assert.True(failed.IsEmpty, string.Join("\n", failed));
        }
        finally { if (!server.HasExited) server.Kill(entireProcessTree: true); }
    }
}
