using System.IO.Compression;
using System.Net;
using System.Text.Json;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Issue 27's label attributes and keys: a label defines text, number, select and checkbox attributes (checked when
/// defined), objects' values are checked against their label's definitions on the write path, COCO exports write them as
/// each annotation's "attributes" (defaults filled in) and the manifest lists the definitions, and a COCO import reads
/// them back. Labels get keys 1…9, 0, then ten letters, unique in a project.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class LabelAttributesTests : IDisposable
{
    private readonly TempDirectory _data = new();
    private readonly VisionLabelApp _app;
    private readonly HttpClient _http;

    public LabelAttributesTests()
    {
        _app = new VisionLabelApp(_data.Path);
        _http = _app.Client("olga");
    }

    public void Dispose()
    {
        _http.Dispose();
        _app.Dispose();
        _data.Dispose();
    }

    private static readonly object[] CarAttributes =
    [
        new { name = "occluded", type = "checkbox", @default = false },
        new { name = "colour", type = "select", options = new[] { "red", "blue" }, @default = "red" },
        new { name = "note", type = "text" },
        new { name = "doors", type = "number" },
    ];

    [Fact]
    public async Task Labels_define_attributes_and_keys_and_bad_definitions_are_refused_by_field()
    {
        var project = await (await _http.PostJson("/api/projects", new
        {
            name = "attrs",
            labels = new object[] { new { name = "car", color = "#00FF00", hotkey = "Q", attributes = CarAttributes }, new { name = "dog" }, new { name = "cat", hotkey = "" } },
        })).Read<ProjectDto>();
        var car = project.Labels.Single(l => l.Name == "car");
        Assert.Equal("#00ff00", car.Color);
        Assert.Equal("q", car.Hotkey);
        Assert.Equal("1", project.Labels.Single(l => l.Name == "dog").Hotkey); // the next free key
        Assert.Null(project.Labels.Single(l => l.Name == "cat").Hotkey); // asked for none
        Assert.Equal(["occluded", "colour", "note", "doors"], car.Attributes.Select(a => a.Name));
        Assert.Equal(["red", "blue"], car.Attributes[1].Options!);
        Assert.Equal("red", car.Attributes[1].Default!.Value.GetString());
        Assert.Null(car.Attributes[2].Options);

        // Labels added later take the next free key after 1…9 and 0 are gone: the letters.
        var keys = new List<string?>();
        for (int i = 0; i < 10; i++)
            keys.Add((await (await _http.PostJson($"/api/projects/{project.Id}/labels", new { name = $"l{i}" })).Read<LabelDto>()).Hotkey);
        Assert.Equal(["2", "3", "4", "5", "6", "7", "8", "9", "0", "w"], keys); // q is car's

        // Bad definitions, each named by its field.
        async Task Refused(object label, string field, string words)
        {
            var problem = await (await _http.PostJson($"/api/projects/{project.Id}/labels", label)).Problem(400);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), problem.ToString());
            Assert.Contains(words, messages[0].GetString());
        }
        await Refused(new { name = "a", attributes = new[] { new { name = "size", type = "select" } } }, "attributes[0].options", "at least one option");
        await Refused(new { name = "a", attributes = new object[] { new { name = "x", type = "text" }, new { name = "X", type = "number" } } }, "attributes[1].name", "already has");
        await Refused(new { name = "a", attributes = new[] { new { name = "iscrowd", type = "checkbox" } } }, "attributes[0].name", "COCO");
        await Refused(new { name = "a", attributes = new[] { new { name = "n", type = "number", @default = "three" } } }, "attributes[0].default", "is a number");
        await Refused(new { name = "a", attributes = new object[] { new { name = "c", type = "select", options = new[] { "x" }, @default = "y" } } }, "attributes[0].default", "one of 'x'");
        await Refused(new { name = "a", attributes = new object[] { new { name = "t", type = "text", options = new[] { "x" } } } }, "attributes[0].options", "only a select");
        await Refused(new { name = "a", hotkey = "x" }, "hotkey", "is not a label key");
        var typeProblem = await (await _http.PostJson($"/api/projects/{project.Id}/labels", new { name = "a", attributes = new[] { new { name = "t", type = "colour" } } })).Problem(400);
        Assert.Contains("type", typeProblem.ToString());
        var untyped = await (await _http.PostJson($"/api/projects/{project.Id}/labels", new { name = "a", attributes = new[] { new { name = "t" } } })).Problem(400);
        Assert.Contains("type", untyped.GetProperty("detail").GetString());
        Assert.Equal("Hotkey taken", (await (await _http.PostJson($"/api/projects/{project.Id}/labels", new { name = "a", hotkey = "q" })).Problem(409)).GetProperty("title").GetString());

        // PATCH: another key (taken ones refused), none, and a new attribute list.
        string dog = $"/api/projects/{project.Id}/labels/{project.Labels.Single(l => l.Name == "dog").Id}";
        Assert.Equal("Hotkey taken", (await (await _http.PatchJson(dog, new { hotkey = "q" })).Problem(409)).GetProperty("title").GetString());
        Assert.Equal("z", (await (await _http.PatchJson(dog, new { hotkey = "Z" })).Read<LabelDto>()).Hotkey);
        Assert.Null((await (await _http.PatchJson(dog, new { hotkey = "" })).Read<LabelDto>()).Hotkey);
        var patched = await (await _http.PatchJson(dog, new { attributes = new[] { new { name = "breed", type = "text", @default = "mixed" } } })).Read<LabelDto>();
        Assert.Equal("breed", Assert.Single(patched.Attributes).Name);
        await (await _http.PatchJson(dog, new { attributes = new[] { new { name = "", type = "text" } } })).Problem(400);
        Assert.Equal("breed", Assert.Single((await (await _http.GetAsync($"/api/projects/{project.Id}/labels")).Read<List<LabelDto>>()).Single(l => l.Name == "dog").Attributes).Name);
    }

    [Fact]
    public async Task Values_are_checked_against_the_label_exported_to_coco_and_the_manifest_and_imported_back()
    {
        var project = await (await _http.PostJson("/api/projects", new
        {
            name = "cars",
            labels = new object[] { new { name = "car", attributes = CarAttributes }, new { name = "sign", attributes = new[] { new { name = "colour", type = "text" } } } },
        })).Read<ProjectDto>();
        Guid car = project.Labels.Single(l => l.Name == "car").Id, sign = project.Labels.Single(l => l.Name == "sign").Id;
        var upload = await (await _http.PostAsync($"/api/projects/{project.Id}/images",
            HttpExtensions.Files(("street.jpg", VisionLabel.Imaging.ImageCodec.EncodeJpeg(TestImages.Quadrants(200, 100)))))).Read<UploadSummary>();
        string url = $"/api/images/{upload.Files[0].Image!.Id}/annotations";
        var box = new { x = 10, y = 10, width = 20, height = 20 };

        async Task Refused(HttpResponseMessage response, string field, string words)
        {
            var problem = await response.Problem(400);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), problem.ToString());
            Assert.Contains(words, messages[0].GetString());
        }
        await Refused(await _http.PostJson(url, new { labelId = car, kind = "box", geometry = box, attributes = new { colour = "green" } }), "attributes.colour", "one of 'red', 'blue'");
        await Refused(await _http.PostJson(url, new { labelId = car, kind = "box", geometry = box, attributes = new { occluded = "yes" } }), "attributes.occluded", "true or false");
        await Refused(await _http.PostJson(url, new { labelId = car, kind = "box", geometry = box, attributes = new { note = new string('n', 1001) } }), "attributes.note", "1000");
        Assert.Empty(await (await _http.GetAsync(url)).Read<List<AnnotationDto>>()); // nothing stored

        // Values of defined names are checked; other names are kept as they are.
        var a = await (await _http.PostJson(url, new { labelId = car, kind = "box", geometry = box, attributes = new { occluded = true, colour = "blue", doors = 5, extra = "kept" } })).Read<AnnotationDto>();
        var b = await (await _http.PostJson(url, new { labelId = car, kind = "box", geometry = new { x = 50, y = 50, width = 10, height = 10 } })).Read<AnnotationDto>();
        await Refused(await _http.PatchJson($"{url}/{a.Id}", new { version = 1, attributes = new { occluded = true, colour = "blue", doors = "five" } }), "attributes.doors", "is a number");
        // A relabel is checked against the new label: sign's colour is a text, car's a select — "blue" fits both; 5 doors is an extra for sign.
        var c = await (await _http.PostJson(url, new { labelId = sign, kind = "box", geometry = new { x = 80, y = 20, width = 10, height = 10 }, attributes = new { colour = "faded green" } })).Read<AnnotationDto>();
        await Refused(await _http.PatchJson($"{url}/{c.Id}", new { version = 1, labelId = car }), "attributes.colour", "one of");
        var updated = await (await _http.PatchJson($"{url}/{a.Id}", new { version = 1, attributes = new { occluded = false, colour = "red", doors = 3, note = "dented", extra = "kept" } })).Read<AnnotationDto>();
        Assert.Equal("dented", updated.Attributes.GetProperty("note").GetString());

        var zip = await (await _http.GetAsync($"/api/projects/{project.Id}/export?format=coco&scope=all")).Content.ReadAsByteArrayAsync();
        using (var archive = new ZipArchive(new MemoryStream(zip)))
        {
            using var coco = JsonDocument.Parse(archive.GetEntry("annotations/instances.json")!.Open());
            var byBox = coco.RootElement.GetProperty("annotations").EnumerateArray().ToDictionary(x => x.GetProperty("bbox")[0].GetDouble(), x => x.GetProperty("attributes"));
            Assert.Equal("""{"occluded":false,"colour":"red","doors":3,"note":"dented","extra":"kept"}""", byBox[10].GetRawText());
            Assert.Equal("""{"occluded":false,"colour":"red"}""", byBox[50].GetRawText()); // none set: the defaults
            Assert.Equal("""{"colour":"faded green"}""", byBox[80].GetRawText());
            using var manifest = JsonDocument.Parse(archive.GetEntry("visionlabel-export.json")!.Open());
            var carEntry = manifest.RootElement.GetProperty("labels").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "car");
            Assert.Equal(["occluded", "colour", "note", "doors"], carEntry.GetProperty("attributes").EnumerateArray().Select(x => x.GetProperty("name").GetString()));
            Assert.Equal("select", carEntry.GetProperty("attributes")[1].GetProperty("type").GetString());
        }

        // Imported into a new project, the values come back (the defaults the export filled in are values now).
        var report = await _http.ImportDataset("/api/projects/import?format=coco&name=cars-again", HttpExtensions.ZipUpload(zip));
        var images = await (await _http.GetAsync($"/api/projects/{report.ProjectId}/images?limit=10")).Read<JsonElement>();
        var imageId = images.GetProperty("items")[0].GetProperty("id").GetGuid();
        var back = await (await _http.GetAsync($"/api/images/{imageId}/annotations")).Read<List<AnnotationDto>>();
        var dented = back.Single(x => x.Geometry.GetProperty("x").GetDouble() == 10).Attributes;
        Assert.Equal("dented", dented.GetProperty("note").GetString());
        Assert.Equal(3, dented.GetProperty("doors").GetInt32());
        Assert.False(dented.GetProperty("occluded").GetBoolean());
        Assert.Equal("red", back.Single(x => x.Geometry.GetProperty("x").GetDouble() == 50).Attributes.GetProperty("colour").GetString());
    }

    [Fact]
    public async Task Over_the_hub_any_spelling_of_attributes_is_checked_numbers_too_large_are_refused_and_values_from_older_definitions_stay()
    {
        var project = await (await _http.PostJson("/api/projects", new { name = "hub", labels = new object[] { new { name = "car", attributes = CarAttributes } } })).Read<ProjectDto>();
        Guid car = project.Labels[0].Id;
        var upload = await (await _http.PostAsync($"/api/projects/{project.Id}/images",
            HttpExtensions.Files(("street.jpg", VisionLabel.Imaging.ImageCodec.EncodeJpeg(TestImages.Quadrants(200, 100)))))).Read<UploadSummary>();
        Guid image = upload.Files[0].Image!.Id;
        string url = $"/api/images/{image}/annotations";
        var a = await (await _http.PostJson(url, new { labelId = car, kind = "box", geometry = new { x = 10, y = 10, width = 20, height = 20 }, attributes = new { colour = "blue" } })).Read<AnnotationDto>();

        await using var hub = await HubClient.ConnectAsync(_app.Server, await new ProjectMembers(_app, _http).HubPathAsync("/hubs/annotations", project.Id, "ann"));
        await hub.CallAsync("JoinImage", image);
        async Task<JsonElement> Submit(string changesJson) => await hub.CallAsync("Submit", new
        {
            clientOpId = Guid.NewGuid().ToString("N"), imageId = image, type = "update", annotationId = a.Id, changes = JsonDocument.Parse(changesJson).RootElement,
        });
        var upper = await Submit("""{"Attributes":{"colour":"purple"}}""");
        Assert.Contains("'colour' is one of", upper.GetProperty("rejected").GetString());
        var huge = await Submit("""{"attributes":{"colour":"blue","doors":1e400}}""");
        Assert.Contains("'doors' is a number", huge.GetProperty("rejected").GetString());

        // The owner drops "blue" from the options: the object keeps its value, and an edit of another value is not refused for it.
        await (await _http.PatchJson($"/api/projects/{project.Id}/labels/{car}", new
        {
            attributes = new object[] { new { name = "occluded", type = "checkbox" }, new { name = "colour", type = "select", options = new[] { "red" } } },
        })).Read<LabelDto>();
        var edit = await Submit("""{"attributes":{"colour":"blue","occluded":true}}""");
        Assert.True(edit.GetProperty("seq").ValueKind == JsonValueKind.Number, edit.ToString());
        var changed = await Submit("""{"attributes":{"colour":"green","occluded":true}}""");
        Assert.Contains("'colour' is one of 'red'", changed.GetProperty("rejected").GetString()); // a value changed is checked
        Assert.Equal("blue", (await (await _http.GetAsync($"{url}/{a.Id}")).Read<AnnotationDto>()).Attributes.GetProperty("colour").GetString());
    }
}
