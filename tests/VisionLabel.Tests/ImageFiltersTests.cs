using System.Text.Json;
using VisionLabel.Imaging;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The image list's filters (GET /api/projects/{id}/images: the grid's filters and the analytics pages' drill-downs) on a
/// scripted project of six images, each filter pinned to the images it must give, alone and together, and each bad value
/// refused naming its field. On SQLite here; on PostgreSQL in <see cref="ImageFiltersPostgresTests"/>.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class ImageFiltersTests
{
    [Fact]
    public async Task Each_filter_gives_the_images_it_names_alone_and_together()
    {
        using var data = new TempDirectory();
        using var app = new VisionLabelApp(data.Path);
        await new ImageFiltersScenario(app).RunAsync();
    }
}

/// <summary>The same filters on PostgreSQL (the production database): the same LINQ, another SQL.</summary>
[Trait("Tier", Tiers.System)]
public class ImageFiltersPostgresTests
{
    [Fact]
    public async Task Each_filter_gives_the_same_images_on_postgres()
    {
        using var database = PostgresDatabase.Require();
        using var data = new TempDirectory();
        using var app = new VisionLabelApp(data.Path, new Dictionary<string, string?>
        {
            ["VisionLabel:Database:Provider"] = "postgres",
            ["VisionLabel:Database:ConnectionString"] = database.ConnectionString,
        });
        await new ImageFiltersScenario(app).RunAsync();
    }
}

/// <summary>Six images: ann1 and ann2 submit, rev approves, rejects and reviews, a model proposes; then every filter.</summary>
internal sealed class ImageFiltersScenario(VisionLabelApp app)
{
    private HttpClient _owner = null!;
    private ProjectDto _project = null!;
    private List<Guid> _images = null!;

    private Guid Label(string name) => _project.Labels.Single(l => l.Name == name).Id;

    private async Task<HttpClient> As(string user, string role)
    {
        await new ProjectMembers(app, _owner).HubPathAsync("/hubs/annotations", _project.Id, user, role);
        return app.Client(user, admin: false);
    }

    private static async Task<JsonElement> Annotate(HttpClient client, Guid image, Guid label, double x, object? source = null, string? state = null)
    {
        var response = await client.PostJson($"/api/images/{image}/annotations",
            new { labelId = label, kind = "box", geometry = new { x, y = 5, width = 10, height = 10 }, source, state });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await response.Read<JsonElement>();
    }

    /// <summary>The images the list gives for a query, as indexes into the upload order (ascending).</summary>
    private async Task<int[]> Indexes(string query)
    {
        var response = await _owner.GetAsync($"/api/projects/{_project.Id}/images?{query}");
        Assert.True(response.IsSuccessStatusCode, $"{query}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var page = await response.Read<ImagePage>();
        Assert.Equal(page.Items.Count, page.Total);
        return page.Items.Select(i => _images.IndexOf(i.Id)).Order().ToArray();
    }

    private async Task Gives(string query, params int[] expected) => Assert.Equal(expected, await Indexes(query));

    private async Task Refused(string query, string field)
    {
        var problem = await (await _owner.GetAsync($"/api/projects/{_project.Id}/images?{query}")).Problem(400);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{query}: {problem}");
    }

    public async Task RunAsync()
    {
        _owner = app.Client("lead", admin: false);
        _project = await (await _owner.PostJson("/api/projects", new { name = "filters", labels = new[] { new { name = "car" }, new { name = "truck" } } })).Read<ProjectDto>();
        _images = await _owner.UploadImagesAsync(_project.Id, 6);
        var (ann1, ann2, rev) = (await As("ann1", "annotator"), await As("ann2", "annotator"), await As("rev", "reviewer"));
        var (car, truck) = (Label("car"), Label("truck"));

        // ann1: images 0 (car) and 1 (truck); ann2: 2 (car) and 3 (truck); ann1: 4 (a model's truck, accepted, score 0.95).
        foreach (var (who, index, label) in new[] { (ann1, 0, car), (ann1, 1, truck), (ann2, 2, car), (ann2, 3, truck), (ann1, 4, truck) })
        {
            Assert.Equal(_images[index], await who.NextIdAsync(_project.Id));
            await Annotate(who, _images[index], label, 5, index == 4 ? new { type = "model", modelId = "m", score = 0.95 } : null, index == 4 ? "accepted" : null);
            (await who.WorkAsync(_images[index], "submit")).EnsureSuccessStatusCode();
        }
        // rev: approves 0, rejects 1 and 2, and is reviewing 3 (leased); 4 waits for review.
        Assert.Equal(_images[0], await rev.NextIdAsync(_project.Id, "review"));
        (await rev.WorkAsync(_images[0], "approve")).EnsureSuccessStatusCode();
        foreach (var index in new[] { 1, 2 })
        {
            Assert.Equal(_images[index], await rev.NextIdAsync(_project.Id, "review"));
            (await rev.WorkAsync(_images[index], "reject", new { reason = "wrong label" })).EnsureSuccessStatusCode();
        }
        Assert.Equal(_images[3], await rev.NextIdAsync(_project.Id, "review"));
        // ann2 takes their rework (2); 1 stays rejected with nobody on it.
        Assert.Equal(_images[2], await ann2.NextIdAsync(_project.Id));
        // Image 5, untouched by people: a model's car proposal at 0.3 and a truck proposal at 0.7 someone rejected.
        await Annotate(_owner, _images[5], car, 5, new { type = "model", modelId = "m", score = 0.3 });
        var rejected = await Annotate(_owner, _images[5], truck, 30, new { type = "model", modelId = "m", score = 0.7 });
        (await _owner.PatchJson($"/api/images/{_images[5]}/annotations/{rejected.GetProperty("id").GetGuid()}",
            new { state = "rejected", version = rejected.GetProperty("version").GetInt32() })).EnsureSuccessStatusCode();

        await Gives("", 0, 1, 2, 3, 4, 5);
        // Stages, as the editor's stage chip names them (status and the lease now).
        await Gives("stage=annotate", 5);
        await Gives("stage=submitted", 4);
        await Gives("stage=in-review", 3);
        await Gives("stage=approved", 0);
        await Gives("stage=rejected", 1);
        await Gives("stage=rework", 2);
        await Gives("status=rejected", 1, 2);
        // Whoever submitted it (last).
        await Gives("annotator=ann1", 0, 1, 4);
        await Gives("annotator=ann2", 2, 3);
        await Gives("annotator=rev");
        // A label's accepted or proposed annotations (image 5's rejected truck does not count).
        await Gives($"label={car}", 0, 2, 5);
        await Gives($"label={truck}", 1, 3, 4);
        // Proposals waiting for a decision.
        await Gives("hasProposals=true", 5);
        await Gives("hasProposals=false", 0, 1, 2, 3, 4);
        // A model annotation's score in [min, max], whatever became of it.
        await Gives("minScore=0.5", 4, 5);
        await Gives("maxScore=0.5", 5);
        await Gives("minScore=0.25&maxScore=0.35", 5);
        await Gives("minScore=0.95&maxScore=1", 4);
        await Gives("minScore=0.96");
        // Part of the file name, any case.
        await Gives("fileName=IMG0003", 3);
        await Gives("fileName=.JPG", 0, 1, 2, 3, 4, 5);
        await Gives("fileName=nothing");
        // Ids (drill-downs), in upload order whatever order they are given in; an unknown id is simply not there.
        await Gives($"ids={_images[5]},{_images[1]},{Guid.NewGuid()}", 1, 5);
        // Together: every filter holds.
        await Gives("annotator=ann1&stage=approved", 0);
        await Gives($"annotator=ann1&label={truck}&minScore=0.9", 4);
        await Gives($"ids={_images[1]},{_images[5]}&stage=rejected", 1);
        await Gives($"label={car}&status=rejected&fileName=img", 2);
        // A blank filter narrows nothing (a form's empty field); paging counts the filtered images.
        await Gives("fileName=&annotator=&label=&ids=", 0, 1, 2, 3, 4, 5);
        var pages = new List<ImagePage>();
        foreach (var offset in new[] { 0, 2 })
            pages.Add(await (await _owner.GetAsync($"/api/projects/{_project.Id}/images?annotator=ann1&offset={offset}&limit=2")).Read<ImagePage>());
        Assert.Equal((3, 3), (pages[0].Total, pages[1].Total));
        Assert.Equal(new[] { 0, 1, 4 }, pages.SelectMany(p => p.Items).Select(i => _images.IndexOf(i.Id)).Order());

        // Each bad value is a 400 naming its field.
        await Refused("stage=done", "stage");
        await Refused("label=car", "label");
        await Refused($"label={Guid.NewGuid()}", "label");
        await Refused($"annotator={new string('a', 300)}", "annotator");
        await Refused("hasProposals=maybe", "hasProposals");
        await Refused("minScore=high", "minScore");
        await Refused("maxScore=2", "maxScore");
        await Refused("minScore=-0.1", "minScore");
        await Refused("minScore=0.8&maxScore=0.2", "maxScore");
        await Refused($"fileName={new string('x', 300)}", "fileName");
        await Refused("ids=not-an-id", "ids");
        await Refused("ids=,", "ids");
        await Refused($"ids={string.Join(",", Enumerable.Range(0, 1001).Select(_ => Guid.NewGuid()))}", "ids");
        await Refused("status=finished", "status");
        await Refused("flagged=odd", "flagged");

        await FlaggedAsync();
    }

    /// <summary>
    /// ?flagged= on a project of its own: four pictures, the second and third the same one re-encoded (a near-duplicate
    /// pair once a health run has hashed them); three annotators label copies of the first and disagree (consensus);
    /// the owner boxes signs on the last, one far larger than the others (a box outlier).
    /// </summary>
    private async Task FlaggedAsync()
    {
        _project = await (await _owner.PostJson("/api/projects", new { name = "flagged", labels = new[] { new { name = "car" }, new { name = "sign" } } })).Read<ProjectDto>();
        var picture = ImageCodec.Decode(ImageCodec.EncodeJpeg(Blocks(2)), ImageFormat.Jpeg);
        var files = new[]
        {
            ("first.jpg", ImageCodec.EncodeJpeg(Blocks(1))), ("same-90.jpg", ImageCodec.EncodeJpeg(picture, quality: 90)),
            ("same-40.jpg", ImageCodec.EncodeJpeg(picture, quality: 40)), ("last.jpg", ImageCodec.EncodeJpeg(Blocks(3))),
        };
        var upload = await (await _owner.PostAsync($"/api/projects/{_project.Id}/images", HttpExtensions.Files(files))).Read<UploadSummary>();
        Assert.Equal(4, upload.Created);
        _images = upload.Files.Select(f => f.Image!.Id).ToList();
        (await _owner.WorkflowAsync(_project.Id, new { overlap = 3, quorum = 0.5, agreementThreshold = 0.8 })).EnsureSuccessStatusCode();
        // Before any health run: nothing is a duplicate or an outlier, and nobody disagrees yet.
        await Gives("flagged=duplicate");
        await Gives("flagged=outlier");
        await Gives("flagged=disagreement");

        // Consensus on image 0: alice and carol box the same car, bob one elsewhere. Pairwise F1 1, 0, 0: agreement 1/3, below 0.8.
        var car = Label("car");
        foreach (var (who, x) in new[] { ("alice", 10.0), ("bob", 60.0), ("carol", 10.0) })
        {
            var client = await As(who, "annotator");
            var copy = (await client.NextIdAsync(_project.Id))!.Value;
            Assert.DoesNotContain(copy, _images); // a private copy, never in the list
            await Annotate(client, copy, car, x);
            (await client.WorkAsync(copy, "submit")).EnsureSuccessStatusCode();
        }
        var replicas = await (await _owner.GetAsync($"/api/images/{_images[0]}/replicas")).Read<JsonElement>();
        Assert.True(replicas.GetProperty("needsAdjudication").GetBoolean(), replicas.ToString());
        await Gives("flagged=disagreement", 0);
        await Gives("flagged=disagreement&stage=submitted", 0);
        await Gives("flagged=disagreement&stage=approved");

        // Signs on image 3: four of about the same size and one 80 pixels wide.
        var sign = Label("sign");
        foreach (var (x, size) in new[] { (0.0, 10.0), (12.0, 11.0), (24.0, 12.0), (36.0, 13.0), (40.0, 80.0) })
            (await _owner.PostJson($"/api/images/{_images[3]}/annotations",
                new { labelId = sign, kind = "box", geometry = new { x, y = 5, width = size, height = size } })).EnsureSuccessStatusCode();

        // A health run hashes the four: the re-encoded pair is a near-duplicate, and the big sign an outlier.
        var started = await _owner.PostJson($"/api/projects/{_project.Id}/health", new { });
        Assert.Equal(System.Net.HttpStatusCode.Accepted, started.StatusCode);
        var job = await _owner.WaitForJob((await started.Read<JobDto>()).Id);
        Assert.Equal(JobStatus.Completed, job.Status);
        var health = await (await _owner.GetAsync($"/api/projects/{_project.Id}/health")).Read<JsonElement>();
        var pair = Assert.Single(health.GetProperty("nearDuplicates").EnumerateArray());
        Assert.Equal(new[] { _images[1], _images[2] }.Order(), new[] { pair.GetProperty("imageA").GetGuid(), pair.GetProperty("imageB").GetGuid() }.Order());
        await Gives("flagged=duplicate", 1, 2);
        await Gives("flagged=DUPLICATE&fileName=90", 1);
        await Gives($"flagged=duplicate&ids={_images[2]},{_images[3]}", 2);
        await Gives("flagged=outlier", 3);
        await Gives("flagged=disagreement", 0);
        await Gives("flagged=", 0, 1, 2, 3); // blank: no filter
        var page = await (await _owner.GetAsync($"/api/projects/{_project.Id}/images?flagged=duplicate&offset=1&limit=1")).Read<ImagePage>();
        Assert.Equal((2, _images[2]), (page.Total, Assert.Single(page.Items).Id));
    }

    /// <summary>A picture of random coloured 16-pixel blocks (distinct seeds: pictures that do not look alike).</summary>
    private static RgbImage Blocks(int seed)
    {
        var random = new Random(seed);
        var image = new RgbImage(160, 128);
        var colours = Enumerable.Range(0, 10 * 8).Select(_ => (R: (byte)random.Next(256), G: (byte)random.Next(256), B: (byte)random.Next(256))).ToArray();
        for (int y = 0; y < image.Height; y++)
        for (int x = 0; x < image.Width; x++)
        {
            var c = colours[(y / 16) * 10 + x / 16];
            int i = (y * image.Width + x) * 3;
            (image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2]) = (c.R, c.G, c.B);
        }
        return image;
    }
}
