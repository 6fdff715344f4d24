using System.IO.Compression;
using System.Text.Json;
using Microsoft.Playwright;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Issue 27 in a browser: a project created with more than nine labels, one colour and one key chosen on the form; a
/// label's attributes defined on the project page; in the editor a label's letter key picks it, a new box starts with
/// its label's defaults, and the objects list's card edits the values, which land on the server and in a COCO export.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class LabelAttributesBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _app = await ServedApp.StartAsync();
        _http = await _app.AdminsAsync("olga");
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    [Fact]
    public async Task Labels_get_colours_keys_and_attributes_that_annotators_fill_in_the_objects_list()
    {
        var page = await _app.Browser.NewPageAsync(1280, 720);
        await page.SignInAsync(_app.Url, "olga", "/");

        // Eleven labels: the tenth gets 0, the eleventh a letter; car's colour and elephant's key chosen on the form.
        await page.GetByLabel("Project name").FillAsync("streets");
        await page.GetByLabel("Labels", new() { Exact = true }).FillAsync("car, person, bus, truck, bicycle, motorcycle, dog, cat, horse, giraffe, elephant");
        await page.Locator(".new-label-keys summary").ClickAsync();
        await page.GetByLabel("colour of new label car").FillAsync("#00ff00");
        await page.GetByLabel("key of new label elephant").SelectOptionAsync("z");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await page.WaitForURLAsync("**/projects/*");
        var project = (await (await _http.GetAsync("/api/projects")).Read<List<ProjectDto>>()).Single(p => p.Name == "streets");
        LabelDto Label(string name) => project.Labels.Single(l => l.Name == name);
        Assert.Equal("#00ff00", Label("car").Color);
        Assert.Equal(("1", "0", "z"), (Label("car").Hotkey, Label("giraffe").Hotkey, Label("elephant").Hotkey));

        // Car's attributes, defined on the project page.
        await page.Locator("summary", new() { HasText = "and settings" }).ClickAsync();
        await page.Locator(".label-edit[data-label='car'] .attributes-toggle").ClickAsync();
        var editor = page.GetByRole(AriaRole.Group, new() { Name = "attributes of car" });
        await editor.GetByRole(AriaRole.Button, new() { Name = "Add attribute" }).ClickAsync();
        await editor.GetByLabel("attribute 1 name").FillAsync("occluded");
        await editor.GetByLabel("attribute 1 type").SelectOptionAsync("checkbox");
        await editor.GetByRole(AriaRole.Button, new() { Name = "Add attribute" }).ClickAsync();
        await editor.GetByLabel("attribute 2 name").FillAsync("colour");
        await editor.GetByLabel("attribute 2 type").SelectOptionAsync("select");
        await editor.GetByLabel("attribute 2 options").FillAsync("red, blue");
        await editor.GetByLabel("attribute 2 default").FillAsync("red");
        await editor.GetByRole(AriaRole.Button, new() { Name = "Save attributes" }).ClickAsync();
        await page.Locator(".toast", new() { HasText = "car: 2 attribute(s) saved" }).WaitForAsync();
        await page.Locator(".label-edit[data-label='car'] .attributes-toggle", new() { HasText = "Attributes (2)" }).WaitForAsync();
        var car = (await (await _http.GetAsync($"/api/projects/{project.Id}/labels")).Read<List<LabelDto>>()).Single(l => l.Name == "car");
        Assert.Equal(["occluded:checkbox", "colour:select"], car.Attributes.Select(a => $"{a.Name}:{a.Type.ToString().ToLowerInvariant()}"));
        Assert.Equal(["red", "blue"], car.Attributes[1].Options!);

        // The editor: Z picks elephant, 1 picks car; a new car box starts with colour red.
        var upload = await (await _http.PostAsync($"/api/projects/{project.Id}/images",
            HttpExtensions.Files(("street.jpg", VisionLabel.Imaging.ImageCodec.EncodeJpeg(TestImages.Quadrants(640, 480)))))).Read<UploadSummary>();
        var image = upload.Files[0].Image!;
        await page.GotoAsync($"{_app.Url}/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true']");
        await page.Keyboard.PressAsync("z");
        await page.Locator($".label-row.current[data-label='{Label("elephant").Id}']").WaitForAsync();
        Assert.Equal("Z", await page.Locator($".label-row[data-label='{Label("elephant").Id}'] kbd").TextContentAsync());
        await page.Keyboard.PressAsync("1");
        await page.Locator($".label-row.current[data-label='{car.Id}']").WaitForAsync();
        await page.Keyboard.PressAsync("b");
        var (x0, y0) = await page.OnPage(100, 100);
        var (x1, y1) = await page.OnPage(300, 250);
        await page.Mouse.MoveAsync(x0, y0);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(x1, y1, new MouseMoveOptions { Steps = 8 });
        await page.Mouse.UpAsync();
        await page.WaitForCanvas("[data-shapes='1'][data-pending='0']");
        await page.Locator(".obj-row .jump").First.ClickAsync();
        var fields = page.GetByRole(AriaRole.Group, new() { Name = "attributes" });
        Assert.Equal("red", await fields.GetByLabel("attribute colour").InputValueAsync());

        // The card's fields change the values: each is an op, confirmed by the server.
        await fields.GetByLabel("attribute occluded").CheckAsync();
        await page.Locator(".toast", new() { HasText = "occluded: yes" }).WaitForAsync();
        await fields.GetByLabel("attribute colour").SelectOptionAsync("blue");
        await page.Locator(".toast", new() { HasText = "colour: blue" }).WaitForAsync();
        await page.WaitForCanvas("[data-pending='0']");
        var annotations = await (await _http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<AnnotationDto>>();
        var box = Assert.Single(annotations);
        Assert.Equal(car.Id, box.LabelId);
        Assert.Equal("""{"colour":"blue","occluded":true}""", Canonical(box.Attributes));

        // And the export carries them.
        var zip = await (await _http.GetAsync($"/api/projects/{project.Id}/export?format=coco&scope=all")).Content.ReadAsByteArrayAsync();
        using var archive = new ZipArchive(new MemoryStream(zip));
        using var coco = JsonDocument.Parse(archive.GetEntry("annotations/instances.json")!.Open());
        Assert.Equal("""{"colour":"blue","occluded":true}""", Canonical(coco.RootElement.GetProperty("annotations")[0].GetProperty("attributes")));

        // The ? help says how label keys work (keys typed in a field stay in the field: leave it first).
        await page.EvaluateAsync("() => document.activeElement.blur()");
        await page.Keyboard.PressAsync("?");
        await page.GetByText("a label's key (shown beside it in Labels)").WaitForAsync();
        Assert.True(_app.Browser.Errors.IsEmpty, string.Join("\n", _app.Browser.Errors));
    }

    private static string Canonical(JsonElement o) =>
        new System.Text.Json.Nodes.JsonObject(o.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Name, System.Text.Json.Nodes.JsonNode.Parse(p.Value.GetRawText())))).ToJsonString();
}
