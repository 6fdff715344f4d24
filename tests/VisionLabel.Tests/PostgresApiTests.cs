using System.Net;
using VisionLabel.Imaging;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>The same server on PostgreSQL (the production database): the API paths that touch SQL differently.</summary>
[Trait("Tier", Tiers.System)]
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
        var health = await (await http.GetAsync("/health")).Read<Dictionary<string, System.Text.Json.JsonElement>>();
        Assert.Equal("postgres", health["database"].ToString());

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

    [Fact]
    public async Task Dataset_round_trip_on_postgres_keeps_the_order_of_labels()
    {
        byte[] zip = DatasetTests.YoloZip("coco128", "coco128.yaml");
        using var database = PostgresDatabase.Require();
        using var data = new TempDirectory();
        using var app = new VisionLabelApp(data.Path, new Dictionary<string, string?>
        {
            ["VisionLabel:Database:Provider"] = "postgres",
            ["VisionLabel:Database:ConnectionString"] = database.ConnectionString,
        });
        var http = app.Client();
        var form = new MultipartFormDataContent { { new ByteArrayContent(zip), "file", "coco128.zip" } };
        var report = await http.ImportDataset("/api/projects/import?format=yolo&name=c128", form);
        Assert.Equal((128, 929), (report.ImagesCreated, report.AnnotationsCreated));

        // Exported labels equal the input line for line: uuid order on PostgreSQL keeps the import order too.
        var response = await http.GetAsync($"/api/projects/{report.ProjectId}/export?format=yolo-detect&includeImages=false&scope=all");
        using var exported = new System.IO.Compression.ZipArchive(await response.Content.ReadAsStreamAsync());
        string labels = SharedData.Require("datasets/coco128/labels/train2017");
        int files = 0;
        foreach (var entry in exported.Entries.Where(e => e.FullName.StartsWith("labels/train/")))
        {
            using var reader = new StreamReader(entry.Open());
            var want = File.ReadAllLines(Path.Combine(labels, entry.Name)).Select(l => l.Trim()).Where(l => l.Length > 0);
            Assert.Equal(want, (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries));
            files++;
        }
        Assert.Equal(126, files);
    }
}
