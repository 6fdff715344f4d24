using VisionLabel.Inference;
using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Datasets;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// COCO and YOLO import and export through the HTTP API on the real datasets in ../shared/datasets, plus the
/// malformed and hostile inputs an importer meets.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class DatasetTests : IDisposable
{
    private readonly TempDirectory _data = new();
    private readonly VisionLabelApp _app;
    private readonly HttpClient _http;

    public DatasetTests()
    {
        _app = new VisionLabelApp(_data.Path, new Dictionary<string, string?>
        {
            ["VisionLabel:Jobs:PollInterval"] = "00:00:00.100", ["VisionLabel:Jobs:ProgressInterval"] = "00:00:00.050",
        });
        _http = _app.Client("dataset-owner", admin: false);
    }

    public void Dispose()
    {
        _app.Dispose();
        _data.Dispose();
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    /// <summary>A zip built from (entry name, bytes) pairs.</summary>
    internal static byte[] Zip(IEnumerable<(string Name, byte[] Bytes)> entries, CompressionLevel level = CompressionLevel.Fastest)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes) in entries)
            {
                using var s = zip.CreateEntry(name, level).Open();
                s.Write(bytes);
            }
        return buffer.ToArray();
    }

    internal static IEnumerable<(string, byte[])> Folder(string root, string prefix = "") =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => (prefix + Path.GetRelativePath(root, f).Replace('\\', '/'), File.ReadAllBytes(f)));

    private async Task<HttpResponseMessage> Import(string query, byte[] zip)
    {
        return await _http.PostAsync("/api/projects/" + query, HttpExtensions.ZipUpload(zip));
    }

    private Task<ImportReport> ImportOk(string query, byte[] zip) => _http.ImportDataset("/api/projects/" + query, HttpExtensions.ZipUpload(zip));

    /// <summary>An export's entries. Round trips export every image (scope=all) unless the query picks: imported images are not approved.</summary>
    private async Task<Dictionary<string, byte[]>> Export(Guid projectId, string query)
    {
        if (!query.Contains("scope=") && !query.Contains("status=")) query += "&scope=all";
        var response = await _http.GetAsync($"/api/projects/{projectId}/export?{query}");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        using var zip = new ZipArchive(await response.Content.ReadAsStreamAsync(), ZipArchiveMode.Read);
        return zip.Entries.Where(e => !e.FullName.EndsWith('/')).ToDictionary(e => e.FullName, e =>
        {
            using var s = e.Open();
            using var m = new MemoryStream();
            s.CopyTo(m);
            return m.ToArray();
        });
    }

    private static JsonElement Json(byte[] bytes) => JsonDocument.Parse(bytes).RootElement;

    /// <summary>An object's properties sorted by name, as compact JSON.</summary>
    private static string Canonical(JsonElement o) =>
        new JsonObject(o.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Name, JsonNode.Parse(p.Value.GetRawText())))).ToJsonString();

    private async Task<bool> ProjectExists(string name) =>
        (await (await _http.GetAsync("/api/projects")).Read<List<ProjectDto>>()).Any(p => p.Name == name);

    private async Task<int> ImageRows()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<VisionLabelDb>().Images.CountAsync(TestContext.Current.CancellationToken);
    }

    private static byte[] CocoTinyZip()
    {
        string root = SharedData.Require("datasets/coco_tiny_train");
        return Zip(Folder(root));
    }

    internal static byte[] YoloZip(string folder, string yaml)
    {
        string root = SharedData.Require($"datasets/{folder}");
        return Zip(Folder(root).Append(("data.yaml", File.ReadAllBytes(SharedData.Require($"datasets/{yaml}")))));
    }

    private static List<long> Runs(JsonElement segmentation)
    {
        var counts = segmentation.GetProperty("counts");
        return counts.ValueKind == JsonValueKind.String ? CocoRle.Decode(counts.GetString()!)! : counts.EnumerateArray().Select(c => c.GetInt64()).ToList();
    }

    private static double[] Numbers(JsonElement array) => array.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    /// <summary>For each input annotation, the output annotation on the same image and category with the nearest bbox.</summary>
    private static List<(JsonElement In, JsonElement Out)> Match(JsonElement input, JsonElement output, Func<JsonElement, long>? outputImage = null, Func<JsonElement, long>? outputCategory = null)
    {
        var byKey = output.GetProperty("annotations").EnumerateArray()
            .GroupBy(a => (outputImage?.Invoke(a) ?? a.GetProperty("image_id").GetInt64(), outputCategory?.Invoke(a) ?? a.GetProperty("category_id").GetInt64()))
            .ToDictionary(g => g.Key, g => g.ToList());
        var pairs = new List<(JsonElement, JsonElement)>();
        foreach (var a in input.GetProperty("annotations").EnumerateArray())
        {
            var key = (a.GetProperty("image_id").GetInt64(), a.GetProperty("category_id").GetInt64());
            Assert.True(byKey.TryGetValue(key, out var candidates), $"no exported annotation for image {key.Item1} category {key.Item2}");
            var box = Numbers(a.GetProperty("bbox"));
            pairs.Add((a, candidates.MinBy(c => Numbers(c.GetProperty("bbox")).Zip(box).Max(p => Math.Abs(p.First - p.Second)))));
        }
        return pairs;
    }

    private static double BoxError(JsonElement a, JsonElement b) =>
        Numbers(a.GetProperty("bbox")).Zip(Numbers(b.GetProperty("bbox"))).Max(p => Math.Abs(p.First - p.Second));

    // ---- round trips ---------------------------------------------------------------------------------------

    [Fact]
    public async Task Coco_import_then_export_gives_back_the_same_dataset()
    {
        string jsonPath = SharedData.Require("datasets/coco_tiny_train/annotations/instances_train2017.json");
        var input = Json(File.ReadAllBytes(jsonPath));
        var report = await ImportOk("import?format=coco&name=tiny", CocoTinyZip());
        Assert.Equal((80, 705, 80, 0), (report.ImagesCreated, report.AnnotationsCreated, report.LabelsCreated, report.Skipped.Count));

        var files = await Export(report.ProjectId, "format=coco");
        var output = Json(files["annotations/instances.json"]);

        // Same images (ids, names, sizes) and the image files byte for byte.
        var inImages = input.GetProperty("images").EnumerateArray().ToDictionary(i => i.GetProperty("id").GetInt64());
        var outImages = output.GetProperty("images").EnumerateArray().ToDictionary(i => i.GetProperty("id").GetInt64());
        Assert.Equal(inImages.Keys.Order(), outImages.Keys.Order());
        foreach (var (id, image) in inImages)
        {
            Assert.Equal((image.GetProperty("file_name").GetString(), image.GetProperty("width").GetInt32(), image.GetProperty("height").GetInt32()),
                (outImages[id].GetProperty("file_name").GetString(), outImages[id].GetProperty("width").GetInt32(), outImages[id].GetProperty("height").GetInt32()));
            Assert.Equal(SHA256.HashData(File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(jsonPath))!, "train2017", image.GetProperty("file_name").GetString()!))),
                SHA256.HashData(files["images/" + image.GetProperty("file_name").GetString()]));
        }
        // Same categories: COCO's sparse ids, names and supercategories.
        static string Categories(JsonElement d) => string.Join(";", d.GetProperty("categories").EnumerateArray()
            .Select(c => $"{c.GetProperty("id").GetInt32()}={c.GetProperty("name").GetString()}/{c.GetProperty("supercategory").GetString()}").Order());
        Assert.Equal(Categories(input), Categories(output));

        // Every annotation: bbox within 0.01 px, area within 0.5%, same iscrowd, polygons equal, RLE masks pixel-identical.
        Assert.Equal(705, output.GetProperty("annotations").GetArrayLength());
        var pairs = Match(input, output);
        Assert.Equal(705, pairs.Select(p => p.Out.GetProperty("id").GetInt64()).Distinct().Count());
        foreach (var (a, b) in pairs)
        {
            Assert.True(BoxError(a, b) <= 0.01, $"annotation {a.GetProperty("id")}: bbox moved by {BoxError(a, b)}");
            double area = a.GetProperty("area").GetDouble();
            Assert.True(Math.Abs(b.GetProperty("area").GetDouble() - area) <= 0.005 * area, $"annotation {a.GetProperty("id")}: area {area} became {b.GetProperty("area")}");
            Assert.Equal(a.GetProperty("iscrowd").GetInt32(), b.GetProperty("iscrowd").GetInt32());
            var seg = a.GetProperty("segmentation");
            if (seg.ValueKind == JsonValueKind.Object) Assert.Equal(Runs(seg), Runs(b.GetProperty("segmentation")));
            else Assert.Equal(seg.EnumerateArray().Select(Numbers), b.GetProperty("segmentation").EnumerateArray().Select(Numbers));
        }
        Assert.Equal(6, pairs.Count(p => p.Out.GetProperty("segmentation").ValueKind == JsonValueKind.Object));
        Assert.Equal(44 + 9 + 1 + 1, pairs.Count(p => p.Out.GetProperty("segmentation").ValueKind == JsonValueKind.Array && p.Out.GetProperty("segmentation").GetArrayLength() > 1));
    }

    [Theory]
    [InlineData("coco128", "coco128.yaml", "yolo-detect")]
    [InlineData("coco128-seg", "coco128-seg.yaml", "yolo-segment")]
    public async Task Yolo_import_then_export_gives_back_the_same_labels(string folder, string yaml, string exportFormat)
    {
        // Into a project made beforehand, so its import progress can be watched live.
        var made = await (await _http.PostJson("/api/projects", new { name = folder })).Read<ProjectDto>();
        await using var watcher = await HubClient.ConnectAsync(_app.Server, await new ProjectMembers(_app, _http).HubPathAsync("/hubs/live", made.Id, "watcher", "viewer"));
        await watcher.InvokeAsync("WatchProject", made.Id);
        var report = await ImportOk($"{made.Id}/import?format=yolo", YoloZip(folder, yaml));
        Assert.Equal(made.Id, report.ProjectId);
        var last = await watcher.WaitFor("ImportProgress", TimeSpan.FromSeconds(5), a => a[1].GetProperty("imagesDone").GetInt32() == 128);
        Assert.Equal(128, last[1].GetProperty("imagesTotal").GetInt32());
        Assert.True(watcher.Received.Count(r => r.Target == "ImportProgress") >= 128 / 25, "progress is reported as the import goes");
        Assert.Equal(128, report.ImagesCreated);
        Assert.Equal(80, report.LabelsCreated);
        // The dataset's quirks, reported: two background images, two label files without an image.
        Assert.Contains(report.Notes, n => n.StartsWith("2 background image(s)"));
        Assert.Equal(["labels/train2017/000000000656.txt", "labels/train2017/000000000659.txt"], report.Skipped.Select(s => s.Item).Order());
        Assert.All(report.Skipped, s => Assert.Contains("without a matching image", s.Reason));

        var files = await Export(report.ProjectId, $"format={exportFormat}");
        string labels = SharedData.Require($"datasets/{folder}/labels/train2017");
        var expected = Directory.EnumerateFiles(labels).Select(Path.GetFileName)
            .Where(f => f is not ("000000000656.txt" or "000000000659.txt")).Order().ToList();
        Assert.Equal(expected, files.Keys.Where(k => k.StartsWith("labels/train/")).Select(Path.GetFileName).Order());
        int lines = 0;
        foreach (var name in expected)
        {
            var want = File.ReadAllLines(Path.Combine(labels, name!)).Where(l => l.Trim().Length > 0).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
            var got = Encoding.UTF8.GetString(files["labels/train/" + name]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToList();
            Assert.Equal(want.Count, got.Count);
            for (int i = 0; i < want.Count; i++) // same order, same class, same numbers (up to float formatting)
            {
                Assert.Equal(want[i][0], got[i][0]);
                Assert.Equal(want[i].Length, got[i].Length);
                for (int j = 1; j < want[i].Length; j++)
                    Assert.Equal(double.Parse(want[i][j], CultureInfo.InvariantCulture), double.Parse(got[i][j], CultureInfo.InvariantCulture), 1e-6);
            }
            lines += want.Count;
        }
        Assert.Equal(report.AnnotationsCreated, lines);
        Assert.Contains("  0: 'person'", Encoding.UTF8.GetString(files["data.yaml"]));
        Assert.Contains("No val split was asked for", Encoding.UTF8.GetString(files["data.yaml"]));
        // The two background images are not approved: never written as empty backgrounds, and the manifest says so.
        Assert.Equal(126, files.Keys.Count(k => k.StartsWith("images/train/")));
        var manifest = Json(files["visionlabel-export.json"]);
        Assert.Equal((2, 126), (manifest.GetProperty("leftOutEmptyUnreviewed").GetInt32(), manifest.GetProperty("unreviewed").GetInt32()));
        // Approved (even empty: a reviewer said there is nothing) they are written; the default export holds only those.
        (await _http.PatchJson($"/api/projects/{report.ProjectId}", new { workflow = new { allowSelfReview = true } })).EnsureSuccessStatusCode();
        var page = await (await _http.GetAsync($"/api/projects/{report.ProjectId}/images?limit=1000")).Read<VisionLabel.Server.Images.ImagePage>();
        var background = page.Items.First(i => i.FileName is "000000000250.jpg" or "000000000508.jpg");
        var labelled = page.Items.First(i => i.Id != background.Id);
        foreach (var image in new[] { background, labelled })
            foreach (var step in new[] { "submit", "approve" }) (await _http.PostJson($"/api/images/{image.Id}/{step}", new { })).EnsureSuccessStatusCode();
        var approved = await Export(report.ProjectId, $"format={exportFormat}&scope=approved");
        Assert.Equal(new[] { background.FileName, labelled.FileName }.Order(), approved.Keys.Where(k => k.StartsWith("images/train/")).Select(k => Path.GetFileName(k)).Order());
        Assert.False(approved.ContainsKey($"labels/train/{Path.ChangeExtension(background.FileName, ".txt")}"));
    }

    [Fact]
    public async Task Coco_through_yolo_and_back_keeps_boxes_and_polygons()
    {
        var input = Json(File.ReadAllBytes(SharedData.Require("datasets/coco_tiny_train/annotations/instances_train2017.json")));
        var tiny = await ImportOk("import?format=coco&name=tiny", CocoTinyZip());

        // Boxes, through YOLO detect. Crowd regions are left out (as Ultralytics' converter does) and counted.
        var detect = await Export(tiny.ProjectId, "format=yolo-detect");
        Assert.Contains("6 crowd (iscrowd) annotation(s) left out", Encoding.UTF8.GetString(detect["visionlabel-export.json"]));
        var viaDetect = await ImportOk("import?format=yolo&name=via-detect", Zip(detect.Select(kv => (kv.Key, kv.Value))));
        Assert.Equal((80, 699, 0), (viaDetect.ImagesCreated, viaDetect.AnnotationsCreated, viaDetect.Skipped.Count));
        var back = Json((await Export(viaDetect.ProjectId, "format=coco"))["annotations/instances.json"]);

        // Image ids and category ids are new on the way back; match them by file name and category name.
        var fileOf = input.GetProperty("images").EnumerateArray().ToDictionary(i => i.GetProperty("file_name").GetString()!, i => i.GetProperty("id").GetInt64());
        var imageBack = back.GetProperty("images").EnumerateArray().ToDictionary(i => i.GetProperty("id").GetInt64(), i => fileOf[i.GetProperty("file_name").GetString()!]);
        var categoryOf = input.GetProperty("categories").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("id").GetInt64());
        var categoryBack = back.GetProperty("categories").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetInt64(), c => categoryOf[c.GetProperty("name").GetString()!]);
        var nonCrowd = JsonSerializer.SerializeToElement(new
        {
            annotations = input.GetProperty("annotations").EnumerateArray().Where(a => a.GetProperty("iscrowd").GetInt32() == 0).ToList(),
        });
        var boxPairs = Match(nonCrowd, back, a => imageBack[a.GetProperty("image_id").GetInt64()], a => categoryBack[a.GetProperty("category_id").GetInt64()]);
        Assert.All(boxPairs, p => Assert.True(BoxError(p.In, p.Out) <= 0.01, $"bbox moved by {BoxError(p.In, p.Out)}"));

        // Polygons, through YOLO segment: single-ring polygons come back point for point (to YOLO's 6 digits).
        var segment = await Export(tiny.ProjectId, "format=yolo-segment");
        var viaSegment = await ImportOk("import?format=yolo&name=via-segment", Zip(segment.Select(kv => (kv.Key, kv.Value))));
        var backSeg = Json((await Export(viaSegment.ProjectId, "format=coco"))["annotations/instances.json"]);
        imageBack = backSeg.GetProperty("images").EnumerateArray().ToDictionary(i => i.GetProperty("id").GetInt64(), i => fileOf[i.GetProperty("file_name").GetString()!]);
        categoryBack = backSeg.GetProperty("categories").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetInt64(), c => categoryOf[c.GetProperty("name").GetString()!]);
        var segPairs = Match(nonCrowd, backSeg, a => imageBack[a.GetProperty("image_id").GetInt64()], a => categoryBack[a.GetProperty("category_id").GetInt64()]);
        int singleRing = 0;
        foreach (var (a, b) in segPairs)
        {
            Assert.True(BoxError(a, b) <= 0.01, $"bbox moved by {BoxError(a, b)}");
            if (a.GetProperty("segmentation").GetArrayLength() != 1) continue; // several rings become one YOLO polygon
            var want = Numbers(a.GetProperty("segmentation")[0]);
            var got = Numbers(b.GetProperty("segmentation")[0]);
            Assert.Equal(want.Length, got.Length);
            Assert.All(want.Zip(got), p => Assert.True(Math.Abs(p.First - p.Second) <= 0.01, $"point moved from {p.First} to {p.Second}"));
            singleRing++;
        }
        Assert.Equal(644, singleRing);
    }

    // ---- malformed and hostile input -----------------------------------------------------------------------

    private static byte[] Image(int n)
    {
        var files = Directory.EnumerateFiles(SharedData.Require("datasets/coco128/images/train2017")).Order().ToList();
        return File.ReadAllBytes(files[n]);
    }

    [Fact]
    public async Task Invalid_json_is_refused_and_nothing_is_stored()
    {
        var zip = Zip([("annotations/instances.json", "{\"images\": [ {\"id\": 1, "u8.ToArray()), ("a.jpg", Image(0))]);
        var problem = await (await Import("import?format=coco&name=broken", zip)).Problem(400);
        Assert.Contains("not valid JSON", problem.GetProperty("detail").GetString());
        Assert.False(await ProjectExists("broken"));
        Assert.Equal(0, await ImageRows());

        var notCoco = Zip([("annotations/instances.json", "{\"images\": {}}"u8.ToArray())]);
        Assert.Contains("'images' must be an array", (await (await Import("import?format=coco&name=broken", notCoco)).Problem(400)).GetProperty("detail").GetString());
        Assert.Contains("coco, yolo", (await (await Import("import?format=voc&name=broken", notCoco)).Problem(400)).GetProperty("detail").GetString());
        Assert.Contains("not a readable zip archive", (await (await Import("import?format=coco&name=broken", Image(0))).Problem(400)).GetProperty("detail").GetString());
        Assert.False(await ProjectExists("broken"));
    }

    [Fact]
    public async Task Bad_coco_annotations_are_skipped_with_their_reasons()
    {
        var coco = new JsonObject
        {
            ["images"] = new JsonArray(
                new JsonObject { ["id"] = 1, ["file_name"] = "a.jpg", ["width"] = 640, ["height"] = 480 },
                new JsonObject { ["id"] = 2, ["file_name"] = "missing.jpg", ["width"] = 640, ["height"] = 480 },
                new JsonObject { ["id"] = 3, ["file_name"] = "corrupt.jpg", ["width"] = 640, ["height"] = 480 }),
            ["categories"] = new JsonArray(new JsonObject { ["id"] = 7, ["name"] = "thing" }),
            ["annotations"] = new JsonArray(
                new JsonObject { ["id"] = 10, ["image_id"] = 1, ["category_id"] = 7, ["bbox"] = new JsonArray(10, 10, 50, 40), ["iscrowd"] = 0 },
                new JsonObject { ["id"] = 11, ["image_id"] = 99, ["category_id"] = 7, ["bbox"] = new JsonArray(10, 10, 50, 40) },
                new JsonObject { ["id"] = 12, ["image_id"] = 1, ["category_id"] = 7, ["bbox"] = new JsonArray(10, 10, -5, 40) },
                new JsonObject { ["id"] = 13, ["image_id"] = 1, ["category_id"] = 7, ["bbox"] = new JsonArray(10, 10, "NaN", 40) },
                new JsonObject { ["id"] = 14, ["image_id"] = 1, ["category_id"] = 7, ["segmentation"] = new JsonArray(new JsonArray(1, 1, 5, 5)), ["bbox"] = new JsonArray(1, 1, 4, 4) },
                new JsonObject { ["id"] = 15, ["image_id"] = 1, ["category_id"] = 3, ["bbox"] = new JsonArray(10, 10, 50, 40) },
                new JsonObject { ["id"] = 16, ["image_id"] = 2, ["category_id"] = 7, ["bbox"] = new JsonArray(10, 10, 50, 40) },
                new JsonObject { ["id"] = 17, ["image_id"] = 1, ["category_id"] = 7, ["bbox"] = new JsonArray(600, 10, 500, 40) },
                new JsonObject { ["id"] = 18, ["image_id"] = 3, ["category_id"] = 7, ["bbox"] = new JsonArray(10, 10, 50, 40) }),
        };
        var good = Image(0);
        var report = await ImportOk("import?format=coco&name=bad-annotations", Zip([
            ("annotations/instances.json", Encoding.UTF8.GetBytes(coco.ToJsonString())), ("images/a.jpg", good), ("images/corrupt.jpg", good[..(good.Length / 2)])]));
        Assert.Equal((1, 1), (report.ImagesCreated, report.AnnotationsCreated));
        string Reason(string item) => Assert.Single(report.Skipped, s => s.Item.StartsWith(item)).Reason;
        Assert.Contains("image_id 99 is not an image", Reason("annotation 11"));
        Assert.Contains("width and height must be positive", Reason("annotation 12"));
        Assert.Contains("no bbox of 4 numbers", Reason("annotation 13"));
        Assert.Contains("at least 3 are needed", Reason("annotation 14"));
        Assert.Contains("category_id 3 is not a category", Reason("annotation 15"));
        Assert.Contains("no file with this name", Reason("image 2 (missing.jpg)"));
        Assert.Contains("its image 2 was skipped", Reason("annotation 16"));
        Assert.Contains("outside the 640x480 image", Reason("annotation 17"));
        Assert.Contains("annotation(s) are skipped too", Reason("images/corrupt.jpg"));
    }

    [Fact]
    public async Task Bad_yolo_lines_are_skipped_with_their_reasons()
    {
        var zip = Zip([
            ("data.yaml", "names:\n  0: cat\n  1: dog\n"u8.ToArray()),
            ("images/train/a.jpg", Image(0)),
            ("labels/train/a.txt", "0 0.5 0.5 0.2 0.2\n5 0.5 0.5 0.2 0.2\n1 0.5 abc 0.2 0.2\n1 0.1 0.1 0.2 0.2\n0 0.5 0.5 -0.2 0.2\n1 0.1 0.1 0.3 0.1 0.2 0.3\n"u8.ToArray()),
        ]);
        var report = await ImportOk("import?format=yolo&name=bad-lines", zip);
        Assert.Equal((1, 3, 2), (report.ImagesCreated, report.AnnotationsCreated, report.LabelsCreated));
        Assert.Equal(3, report.Skipped.Count);
        Assert.Contains("class index 5 is out of range", report.Skipped.Single(s => s.Item.EndsWith("line 2")).Reason);
        Assert.Contains("'abc' is not a finite number", report.Skipped.Single(s => s.Item.EndsWith("line 3")).Reason);
        Assert.Contains("must be positive", report.Skipped.Single(s => s.Item.EndsWith("line 5")).Reason);

        var noNames = Zip([("images/a.jpg", Image(0)), ("labels/a.txt", "0 0.5 0.5 0.2 0.2\n"u8.ToArray())]);
        Assert.Contains("no data.yaml", (await (await Import("import?format=yolo&name=no-names", noNames)).Problem(400)).GetProperty("detail").GetString());
        Assert.False(await ProjectExists("no-names"));
    }

    [Theory]
    [InlineData("../escape.jpg")]
    [InlineData("images/../../escape.jpg")]
    [InlineData("/etc/escape.jpg")]
    [InlineData("C:/escape.jpg")]
    public async Task Zip_entries_that_escape_the_folder_refuse_the_archive(string entry)
    {
        var zip = Zip([("data.yaml", "names: [cat]\n"u8.ToArray()), ("images/a.jpg", Image(0)), (entry, Image(1))]);
        var problem = await (await Import("import?format=yolo&name=escape", zip)).Problem(400);
        Assert.Contains($"'{entry}' points outside the dataset folder", problem.GetProperty("detail").GetString());
        Assert.False(await ProjectExists("escape"));
        Assert.Equal(0, await ImageRows());
    }

    [Fact]
    public async Task A_zip_bomb_is_refused()
    {
        var zip = Zip([("data.yaml", "names: [cat]\n"u8.ToArray()), ("images/a.jpg", Image(0)), ("labels/a.txt", new byte[64 << 20])], CompressionLevel.SmallestSize);
        Assert.True(zip.Length < 1 << 20, "64 MiB of zeros should compress to well under 1 MiB");
        var problem = await (await Import("import?format=yolo&name=bomb", zip)).Problem(400);
        Assert.Contains("likely zip bomb", problem.GetProperty("detail").GetString());
        Assert.False(await ProjectExists("bomb"));
    }

    /// <summary>A source that fails part-way, as a disk or network read can.</summary>
    private sealed class FailingSource(IDatasetSource inner, int failOnImage) : IDatasetSource
    {
        private int _opened;
        public IReadOnlyList<string> Files => inner.Files;
        public Stream Open(string path)
        {
            if (path.EndsWith(".jpg") && ++_opened == failOnImage) throw new IOException("read error (simulated)");
            return inner.Open(path);
        }
        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public async Task A_failure_part_way_removes_everything_the_import_added()
    {
        // An existing project with a label and an image of its own, which must survive.
        var project = await (await _http.PostJson("/api/projects", new { name = "keep", labels = new[] { new { name = "person" } } })).Read<ProjectDto>();
        var own = await _http.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(("own.jpg", Image(5))));
        Assert.True(own.IsSuccessStatusCode);

        await using var scope = _app.Services.CreateAsyncScope();
        var import = scope.ServiceProvider.GetRequiredService<DatasetImport>();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        var entity = await db.Projects.SingleAsync(p => p.Id == project.Id, TestContext.Current.CancellationToken);
        using var source = new FailingSource(new FolderSource(SharedData.Require("datasets/coco_tiny_train")), failOnImage: 60);
        await Assert.ThrowsAsync<IOException>(() => import.IntoProjectAsync(entity, DatasetFormats.Importers["coco"], source, null, TestContext.Current.CancellationToken));

        db.ChangeTracker.Clear();
        Assert.Equal(["own.jpg"], await db.Images.Where(i => i.ProjectId == project.Id).Select(i => i.FileName).ToListAsync(TestContext.Current.CancellationToken));
        Assert.Equal(["person"], await db.Labels.Where(l => l.ProjectId == project.Id).Select(l => l.Name).ToListAsync(TestContext.Current.CancellationToken));
        Assert.Equal(0, await db.Annotations.CountAsync(TestContext.Current.CancellationToken));

        // The same failure importing into a new project leaves no project behind.
        using var again = new FailingSource(new FolderSource(SharedData.Require("datasets/coco_tiny_train")), failOnImage: 30);
        await Assert.ThrowsAsync<IOException>(() => import.IntoProjectNamedAsync("fresh", DatasetFormats.Importers["coco"], again, null, TestContext.Current.CancellationToken));
        Assert.False(await ProjectExists("fresh"));
        Assert.Equal(1, await ImageRows());
    }

    // ---- export choices ------------------------------------------------------------------------------------

    [Fact]
    public async Task Export_choices_states_scores_images_and_a_seeded_split()
    {
        // A COCO results file with scores imports as proposals; one box without a score is an accepted label.
        var coco = new JsonObject
        {
            ["images"] = new JsonArray(Enumerable.Range(0, 8).Select(i => (JsonNode)new JsonObject { ["id"] = i + 1, ["file_name"] = $"{i}.jpg" }).ToArray()),
            ["categories"] = new JsonArray(new JsonObject { ["id"] = 1, ["name"] = "thing" }),
            ["annotations"] = new JsonArray(Enumerable.Range(0, 8).SelectMany(i => new JsonNode[]
            {
                new JsonObject { ["id"] = 2 * i + 1, ["image_id"] = i + 1, ["category_id"] = 1, ["bbox"] = new JsonArray(10, 10, 20, 20) },
                new JsonObject { ["id"] = 2 * i + 2, ["image_id"] = i + 1, ["category_id"] = 1, ["bbox"] = new JsonArray(50, 50, 20, 20), ["score"] = 0.75 },
            }).ToArray()),
        };
        var report = await ImportOk("import?format=coco&name=choices", Zip(
            Enumerable.Range(0, 8).Select(i => ($"images/{i}.jpg", Image(i))).Prepend(("annotations/instances.json", Encoding.UTF8.GetBytes(coco.ToJsonString())))));
        Assert.Equal(16, report.AnnotationsCreated);

        // One proposal is rejected by a reviewer: never exported, but counted.
        var firstImage = JsonDocument.Parse(await (await _http.GetAsync($"/api/projects/{report.ProjectId}/images?limit=1")).Content.ReadAsStringAsync())
            .RootElement.GetProperty("items")[0].GetProperty("id").GetGuid();
        var proposal = (await (await _http.GetAsync($"/api/images/{firstImage}/annotations")).Read<List<JsonElement>>()).Single(a => a.GetProperty("state").GetString() == "proposed");
        await (await _http.PatchJson($"/api/images/{firstImage}/annotations/{proposal.GetProperty("id").GetGuid()}", new { version = 1, state = "rejected" })).Read<JsonElement>();

        var defaultExport = await Export(report.ProjectId, "format=coco&includeImages=false");
        var accepted = Json(defaultExport["annotations/instances.json"]);
        Assert.Equal(8, accepted.GetProperty("annotations").GetArrayLength());
        // The manifest says what the default left out and why: reviewed ground truth only.
        var manifest = Json(defaultExport["visionlabel-export.json"]);
        Assert.Equal(["accepted"], manifest.GetProperty("filter").GetProperty("states").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("""{"accepted":8,"proposed":7,"rejected":1}""", Canonical(manifest.GetProperty("annotationsByState")));
        Assert.Equal("""{"accepted":8}""", Canonical(manifest.GetProperty("exportedByState")));
        Assert.Equal("""{"proposed":7,"rejected":1}""", Canonical(manifest.GetProperty("leftOutByState")));
        Assert.Contains(manifest.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("7 proposed annotation(s)"));
        var all = await Export(report.ProjectId, "format=coco&states=accepted,proposed&scores=true&includeImages=false");
        Assert.DoesNotContain(all.Keys, k => k.StartsWith("images/"));
        var withProposals = Json(all["annotations/instances.json"]).GetProperty("annotations").EnumerateArray().ToList();
        Assert.Equal(15, withProposals.Count);
        Assert.Equal(7, withProposals.Count(a => a.TryGetProperty("score", out var s) && s.GetDouble() == 0.75));
        Assert.Equal("""{"accepted":8,"proposed":7}""", Canonical(Json(all["visionlabel-export.json"]).GetProperty("exportedByState")));

        var images = await (await _http.GetAsync($"/api/projects/{report.ProjectId}/images")).Content.ReadAsStringAsync();
        var firstTwo = JsonDocument.Parse(images).RootElement.GetProperty("items").EnumerateArray().Take(2).Select(i => i.GetProperty("id").GetGuid()).ToList();
        var some = Json((await Export(report.ProjectId, $"format=coco&images={string.Join(',', firstTwo)}"))["annotations/instances.json"]);
        Assert.Equal(2, some.GetProperty("images").GetArrayLength());

        // YOLO split: the seed decides, the same seed gives the same split.
        var split1 = await Export(report.ProjectId, "format=yolo-detect&val=0.5&seed=3&includeImages=false");
        var split2 = await Export(report.ProjectId, "format=yolo-detect&val=0.5&seed=3&includeImages=false");
        var val = split1.Keys.Where(k => k.StartsWith("labels/val/")).ToList();
        Assert.NotEmpty(val);
        Assert.NotEmpty(split1.Keys.Where(k => k.StartsWith("labels/train/")));
        Assert.Equal(val, split2.Keys.Where(k => k.StartsWith("labels/val/")).ToList());
        Assert.Contains("val: images/val", Encoding.UTF8.GetString(split1["data.yaml"]));

        Assert.Contains("val must be", (await (await _http.GetAsync($"/api/projects/{report.ProjectId}/export?format=yolo-detect&val=1.5")).Problem(400)).GetProperty("detail").GetString());
        Assert.Contains("'rejected' is not one of", (await (await _http.GetAsync($"/api/projects/{report.ProjectId}/export?format=coco&states=rejected")).Problem(400)).GetProperty("detail").GetString());
        Assert.Contains("yolo-segment", (await (await _http.GetAsync($"/api/projects/{report.ProjectId}/export?format=voc")).Problem(400)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Export_file_names_say_what_is_in_them_and_an_image_of_another_project_is_refused()
    {
        // Issue #20, bugs 5 and 8: "COCO" and "COCO with proposals" downloaded under one name; an image of another
        // project in ?images= was silently left out.
        var owner = _app.Client("exporter", admin: false);
        var (a, imageA) = await owner.ProjectWithImage("export-a", ["x"], 64, 48);
        var (_, imageB) = await owner.ProjectWithImage("export-b", ["x"], 64, 48);
        async Task<string> Name(string query)
        {
            var response = await owner.GetAsync($"/api/projects/{a.Id}/export?{query}");
            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            var disposition = response.Content.Headers.ContentDisposition!;
            return disposition.FileNameStar ?? disposition.FileName!.Trim('"');
        }
        Assert.Equal("export-a-coco.zip", await Name("format=coco"));
        Assert.Equal("export-a-coco-with-proposals.zip", await Name("format=coco&states=accepted,proposed"));
        Assert.Equal("export-a-yolo-detect-approved.zip", await Name("format=yolo-detect&status=approved"));
        Assert.Equal("export-a-coco-1-image.zip", await Name($"format=coco&images={imageA.Id}"));

        var refused = await (await owner.GetAsync($"/api/projects/{a.Id}/export?format=coco&images={imageA.Id},{imageB.Id}")).Problem(400);
        Assert.Contains($"'{imageB.Id}' is not an image of this project", refused.GetProperty("detail").GetString());
        refused = await (await owner.GetAsync($"/api/projects/{a.Id}/export?format=coco&images={Guid.NewGuid()}")).Problem(400);
        Assert.Contains("is not an image of this project", refused.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Dataset_formats_are_listed_from_one_registry_for_the_api_the_cli_and_the_app()
    {
        var member = _app.Client("format-reader", admin: false);
        var formats = await (await member.GetAsync("/api/dataset-formats")).Read<List<JsonElement>>();
        var byId = formats.ToDictionary(f => f.GetProperty("id").GetString()!);
        Assert.Equal(["coco", "yolo", "yolo-detect", "yolo-segment"], byId.Keys);
        Assert.Equal((true, true), (byId["coco"].GetProperty("canImport").GetBoolean(), byId["coco"].GetProperty("canExport").GetBoolean()));
        Assert.Equal((true, false), (byId["yolo"].GetProperty("canImport").GetBoolean(), byId["yolo"].GetProperty("canExport").GetBoolean()));
        Assert.Equal((false, true), (byId["yolo-segment"].GetProperty("canImport").GetBoolean(), byId["yolo-segment"].GetProperty("canExport").GetBoolean()));
        Assert.All(formats, f => Assert.False(string.IsNullOrWhiteSpace(f.GetProperty("title").GetString())));
        // What the endpoints accept is exactly what the list says, and their errors name the same list.
        Assert.Equal(byId.Values.Where(f => f.GetProperty("canImport").GetBoolean()).Select(f => f.GetProperty("id").GetString()), DatasetFormats.Importers.Keys);
        Assert.Equal(byId.Values.Where(f => f.GetProperty("canExport").GetBoolean()).Select(f => f.GetProperty("id").GetString()), DatasetFormats.Exporters.Keys);
        var unknown = await (await member.PostAsync("/api/projects/import?format=voc&name=x", new ByteArrayContent([]))).Problem(400);
        Assert.Contains("coco, yolo.", unknown.GetProperty("detail").GetString());
        using var anonymous = _app.CreateClient();
        Assert.Equal(401, (int)(await anonymous.GetAsync("/api/dataset-formats")).StatusCode);
    }

    [Theory]
    [InlineData("names: [cat, 'hot dog', \"a, b\"]", "cat|hot dog|a, b")]
    [InlineData("path: .\nnames:\n  - cat   # a comment\n  - 'it''s'\n", "cat|it's")]
    [InlineData("names:\n  1: dog\n  0: \"cat\"\nnc: 2\n", "cat|dog")]
    [InlineData("names: {0: cat, 1: dog}", "cat|dog")]
    [InlineData("base: &n [cat, dog]\nnames: *n\n", "cat|dog")]
    [InlineData("train: images\n", null)]
    public void Data_yaml_names_are_read_in_every_yaml_form(string yaml, string? expected)
    {
        var names = VisionLabel.Server.Datasets.DataYaml.Names(yaml, "data.yaml");
        Assert.Equal(expected, names is null ? null : string.Join("|", names));
    }

    [Theory]
    [InlineData("names: [cat\n", "not valid YAML (line")]
    [InlineData("names:\n  0: cat\n  2: dog\n", "without gaps")]
    [InlineData("names:\n  - [a, b]\n", "must be plain text")]
    [InlineData("names: cat\n", "a list of class names or a mapping")]
    public void A_bad_data_yaml_says_what_is_wrong(string yaml, string problem)
    {
        var error = Assert.Throws<VisionLabel.Server.Datasets.DatasetException>(() => VisionLabel.Server.Datasets.DataYaml.Names(yaml, "data.yaml"));
        Assert.Contains(problem, error.Message);
    }
}
