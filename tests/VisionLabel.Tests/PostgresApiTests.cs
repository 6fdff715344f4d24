using System.Net;
using VisionLabel.Imaging;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>The same server on PostgreSQL (the production database): the API paths that touch SQL differently.</summary>
public class PostgresApiTests
{
    [Fact]
    public async Task Upload_annotate_conflict_and_restart_on_postgres()
    {
        using var database = PostgresDatabase.Require();
        using var data = new TempDirectory();
        var settings = new Dictionary<string, string?>
        {
            ["VisionLabel:Database:Provider"] = "postgres",
            ["VisionLabel:Database:ConnectionString"] = database.ConnectionString,
        };
        var app = new VisionLabelApp(data.Path, settings);
        var http = app.Client();
        var health = await (await http.GetAsync("/health")).Read<Dictionary<string, string>>();
        Assert.Equal("postgres", health["database"]);

        var project = await (await http.PostJson("/api/projects", new { name = "pg", labels = new[] { new { name = "car" } } })).Read<ProjectDto>();
        byte[] jpeg = ImageCodec.EncodeJpeg(TestImages.Quadrants(120, 80));
        var upload = await (await http.PostAsync($"/api/projects/{project.Id}/images",
            HttpExtensions.Files(("a.jpg", jpeg), ("b.jpg", jpeg), ("c.png", TestImages.Png(TestImages.Quadrants(10, 10)))))).Read<UploadSummary>();
        Assert.Equal((2, 1), (upload.Created, upload.Duplicates));
        var image = upload.Files[0].Image!;

        var box = await (await http.PostJson($"/api/images/{image.Id}/annotations",
            new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 2, width = 3, height = 4 } })).Read<AnnotationDto>();
        var writers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            app.Client($"u{i}").PatchJson($"/api/images/{image.Id}/annotations/{box.Id}", new { version = 1, attributes = new { i } })));
        Assert.Single(writers, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(7, writers.Count(r => r.StatusCode == HttpStatusCode.Conflict));

        var listed = await (await http.GetAsync($"/api/projects/{project.Id}/images?status=in-progress")).Read<ImagePage>();
        Assert.Equal(image.Id, Assert.Single(listed.Items).Id);
        Assert.Equal(DateTimeKind.Utc, listed.Items[0].CreatedAt.Kind);

        app.Dispose();
        app = new VisionLabelApp(data.Path, settings);
        http = app.Client();
        var after = await (await http.GetAsync($"/api/images/{image.Id}/annotations/{box.Id}")).Read<AnnotationDto>();
        Assert.Equal(2, after.Version);
        app.Dispose();
    }
}
