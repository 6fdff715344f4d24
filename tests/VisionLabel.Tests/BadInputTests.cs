using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VisionLabel.Imaging;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Bad input over every endpoint group and both hubs: each case gets the right 4xx, a reason that names the field
/// and the problem, and nothing invalid is stored (read back). No case may be a 500 or a dropped connection.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class BadInputTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _http = null!;
    private ProjectDto _project = null!;
    private ImageDto _image = null!;

    public async ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path);
        _http = _app.Client("tester", admin: false);
        (_project, _image) = await _http.ProjectWithImage("bad-input", ["a"], 640, 480);
    }

    public ValueTask DisposeAsync()
    {
        _app.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Asserts a ProblemDetails with this status whose text (detail, title and errors) names every fragment given.</summary>
    private static async Task<JsonElement> Refused(HttpResponseMessage response, int status, params string[] mentions)
    {
        var problem = await response.Problem(status);
        string text = problem.GetRawText();
        foreach (var m in mentions) Assert.True(text.Contains(m, StringComparison.OrdinalIgnoreCase), $"the problem should mention '{m}': {text}");
        Assert.DoesNotContain("   at ", text); // no stack traces
        return problem;
    }

    private static StringContent RawJson(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<List<JsonElement>> StoredAnnotations() => await (await _http.GetAsync($"/api/images/{_image.Id}/annotations")).Read<List<JsonElement>>();

    // ---- statuses routing answers before any handler runs (issue #20, bug 7) -----------------------------------

    [Fact]
    public async Task Who_may_call_is_answered_before_the_content_type_and_bare_statuses_say_what_is_wrong()
    {
        var owner = _app.Client("route-owner", admin: false);
        var (project, _) = await owner.ProjectWithImage("routes", ["a"], 64, 48);
        string reader = await TestAccounts.TokenAsync(_app.Services, "route-reader", admin: false, scope: VisionLabel.Server.Accounts.TokenScope.Read);
        await (await owner.PostJson($"/api/projects/{project.Id}/members", new { user = "route-reader", role = "owner" })).Read<JsonElement>();
        using var readToken = _app.CreateClient();
        readToken.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", reader);
        using var anonymous = _app.CreateClient();
        StringContent Text() => new("not a form", Encoding.UTF8, "text/plain");

        // A multipart route called with another content type: anonymous 401, a read token 403, only then 415.
        foreach (string route in new[] { $"/api/projects/{project.Id}/images", "/api/models" })
        {
            await Refused(await anonymous.PostAsync(route, Text()), 401);
            await Refused(await readToken.PostAsync(route, Text()), 403);
        }
        await Refused(await owner.PostAsync($"/api/projects/{project.Id}/images", Text()), 415, "multipart/form-data");

        // Malformed ids match no route: the 404 says which segment is wrong and what an id looks like.
        await Refused(await owner.GetAsync("/api/projects/not-a-guid"), 404, "'not-a-guid'", "not a valid id", "GUID");
        await Refused(await owner.GetAsync($"/api/images/{project.Id}x/annotations"), 404, "not a valid id");
        await Refused(await owner.GetAsync("/api/no-such-area"), 404, "No API route matches GET /api/no-such-area");
        await Refused(await owner.PutAsync($"/api/projects/{project.Id}", RawJson("{}")), 405, "PUT is not allowed");
        await Refused(await owner.GetAsync($"/api/projects/{project.Id}/import"), 405, "GET is not allowed"); // not the app's page fallback
    }

    // ---- projects and labels ---------------------------------------------------------------------------------

    [Fact]
    public async Task Projects_and_labels_refuse_bad_bodies_by_field()
    {
        var missing = await Refused(await _http.PostAsync("/api/projects", RawJson("{}")), 400, "name", "missing required");
        Assert.Equal(["name"], missing.GetProperty("errors").EnumerateObject().Select(e => e.Name)); // the field itself, nothing around it
        await Refused(await _http.PostAsync("/api/projects", RawJson("{\"name\":")), 400, "not valid JSON");
        await Refused(await _http.PostAsync("/api/projects", RawJson("[1,2]")), 400);
        await Refused(await _http.PostJson("/api/projects", new { name = new string('x', 201) }), 400, "name", "200");
        await Refused(await _http.PostJson("/api/projects", new { name = "long-description", description = new string('d', 2001) }), 400, "description", "2000");
        await Refused(await _http.PostJson("/api/projects", new { name = "bad-colour", labels = new[] { new { name = "a", color = "red" } } }), 400, "labels[0]", "colour");
        await Refused(await _http.PostJson("/api/projects", new { name = "many-labels", labels = Enumerable.Range(0, 1001).Select(i => new { name = $"l{i}" }) }), 400, "labels", "1000");
        await Refused(await _http.PostAsync("/api/projects", RawJson("{\"name\":\"" + new string('x', (1 << 20) + 10) + "\"}")), 413, "larger than this endpoint accepts");
        await Refused(await _http.PatchAsync($"/api/projects/{_project.Id}/labels/{_project.Labels[0].Id}", RawJson("{\"order\":\"first\"}")), 400, "order", "integer");
        await Refused(await _http.PatchAsync($"/api/projects/{_project.Id}/labels/{_project.Labels[0].Id}", RawJson("{\"order\":\"3\"}")), 400, "order", "integer");

        var projects = await (await _http.GetAsync("/api/projects")).Read<List<ProjectDto>>();
        Assert.Equal(["bad-input"], projects.Select(p => p.Name));
        Assert.Equal(0, Assert.Single(projects[0].Labels).Order);
    }

    // ---- images ------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Image_status_only_takes_documented_names_that_people_may_set()
    {
        await Refused(await _http.PatchAsync($"/api/images/{_image.Id}", RawJson("{\"status\":99}")), 400, "status", "approved");
        await Refused(await _http.PatchAsync($"/api/images/{_image.Id}", RawJson("{\"status\":\"done\"}")), 400, "status", "submitted");
        await Refused(await _http.PatchJson($"/api/images/{_image.Id}", new { status = "prelabeled" }), 400, "status", "set by the server");
        await Refused(await _http.GetAsync($"/api/projects/{_project.Id}/images?limit=abc"), 400, "limit");
        await Refused(await _http.GetAsync($"/api/projects/{_project.Id}/images?limit=5000"), 400, "limit", "1000");
        var image = await (await _http.GetAsync($"/api/images/{_image.Id}")).Read<ImageDto>();
        Assert.Equal(VisionLabel.Server.Data.ImageStatus.New, image.Status);
    }

    // ---- annotations -------------------------------------------------------------------------------------------

    [Fact]
    public async Task Annotations_refuse_integer_enums_unknown_names_foreign_labels_and_bad_geometry()
    {
        var label = _project.Labels[0].Id;
        var other = await (await _http.PostJson("/api/projects", new { name = "other", labels = new[] { new { name = "z" } } })).Read<ProjectDto>();
        string url = $"/api/images/{_image.Id}/annotations";
        string box = "{\"x\":1,\"y\":1,\"width\":10,\"height\":10}";
        await Refused(await _http.PostAsync(url, RawJson($"{{\"labelId\":\"{label}\",\"kind\":\"box\",\"geometry\":{box},\"state\":9}}")), 400, "state", "proposed, accepted, rejected");
        await Refused(await _http.PostAsync(url, RawJson($"{{\"labelId\":\"{label}\",\"kind\":0,\"geometry\":{box}}}")), 400, "kind", "box, polygon, mask");
        await Refused(await _http.PostAsync(url, RawJson($"{{\"labelId\":\"{label}\",\"kind\":\"circle\",\"geometry\":{box}}}")), 400, "kind");
        await Refused(await _http.PostAsync(url, RawJson($"{{\"labelId\":\"{label}\",\"kind\":\"box\",\"geometry\":{box},\"source\":{{\"type\":1}}}}")), 400, "source.type", "human, model");
        await Refused(await _http.PostAsync(url, RawJson($"{{\"labelId\":\"not-a-guid\",\"kind\":\"box\",\"geometry\":{box}}}")), 400, "labelId", "GUID");
        await Refused(await _http.PostAsync(url, RawJson($"{{\"kind\":\"box\",\"geometry\":{box}}}")), 400, "labelId");
        await Refused(await _http.PostJson(url, new { labelId = other.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 10, height = 10 } }), 400, "labelId", "not a label of this image's project");
        await Refused(await _http.PostJson(url, new { labelId = label, kind = "box", geometry = new { x = 600, y = 1, width = 100, height = 10 } }), 400, "geometry", "outside the 640x480 image");
        await Refused(await _http.PostJson(url, new { labelId = label, kind = "polygon", geometry = new { rings = new[] { new[] { 1.0, 1, 5, 5 } } } }), 400, "geometry", "at least 3");
        await Refused(await _http.PostJson(url, new { labelId = label, kind = "mask", geometry = new { size = new[] { 480, 640 }, counts = "!!" } }), 400, "geometry", "RLE");
        await Refused(await _http.PostJson(url, new { labelId = label, kind = "box", geometry = new { x = 1, y = 1, width = 10, height = 10 }, source = new { type = "model", score = 3 } }), 400, "source");
        await Refused(await _http.PostAsync(url, RawJson($"{{\"labelId\":\"{label}\",\"kind\":\"box\",\"geometry\":{{\"x\":\"" + new string('1', 17 << 20) + "\"}}}}")), 413);
        Assert.Empty(await StoredAnnotations());

        var created = await (await _http.PostJson(url, new { labelId = label, kind = "box", geometry = new { x = 1, y = 1, width = 10, height = 10 } })).Read<JsonElement>();
        string one = $"{url}/{created.GetProperty("id").GetGuid()}";
        await Refused(await _http.PatchAsync(one, RawJson("{\"state\":\"accepted\"}")), 400, "version");
        await Refused(await _http.PatchAsync(one, RawJson("{\"version\":1,\"state\":2}")), 400, "state");
        await Refused(await _http.PatchAsync(one, RawJson("{\"version\":\"1\",\"state\":\"rejected\"}")), 400, "version", "integer");
        var stored = Assert.Single(await StoredAnnotations());
        Assert.Equal(("accepted", 1), (stored.GetProperty("state").GetString(), stored.GetProperty("version").GetInt32()));
    }

    // ---- models, pre-labeling, jobs --------------------------------------------------------------------------

    [Fact]
    public async Task Models_and_prelabel_requests_have_bounded_names_and_lists()
    {
        var model = TinyOnnx.Identity([1, 3, 64, 64]);
        await Refused(await _http.UploadModel("m.onnx", model, name: new string('m', 201)), 400, "name", "200");
        await Refused(await _http.UploadModel("m.onnx", model, names: "person\n" + new string('c', 201)), 400, "names", "class 1", "200");
        Assert.Empty(await (await _http.GetAsync("/api/models")).Read<List<JsonElement>>());

        string url = $"/api/projects/{_project.Id}/prelabel";
        await Refused(await _http.PostAsync(url, RawJson("{}")), 400, "modelId");
        await Refused(await _http.PostJson(url, new { modelId = Guid.NewGuid() }), 400, "modelId", "no model");
        await Refused(await _http.PostJson(url, new { modelId = Guid.NewGuid(), maxBatch = 0 }), 400, "maxBatch");
        // 100,000 ids is allowed and checked in chunks (no database error); 100,001 is over the limit.
        var ids = Enumerable.Range(0, 100_000).Select(_ => Guid.NewGuid()).ToList();
        await Refused(await _http.PostJson(url, new { modelId = Guid.NewGuid(), imageIds = ids.Append(Guid.NewGuid()) }), 400, "imageIds", "100000");
        await Refused(await _http.PostJson($"/api/projects/{_project.Id}/prelabel", new { modelId = Guid.NewGuid(), imageIds = ids }), 400, "modelId");
        await Refused(await _http.GetAsync($"/api/jobs/{Guid.NewGuid()}"), 404, "job");
        Assert.Empty(await (await _http.GetAsync($"/api/projects/{_project.Id}/jobs")).Read<List<JsonElement>>());
    }

    // ---- datasets ----------------------------------------------------------------------------------------------

    [Fact]
    public async Task Dataset_import_refuses_overlong_category_names_and_export_unknown_states()
    {
        var coco = new JsonObject
        {
            ["images"] = new JsonArray(new JsonObject { ["id"] = 1, ["file_name"] = "a.jpg", ["width"] = 64, ["height"] = 48 }),
            ["categories"] = new JsonArray(new JsonObject { ["id"] = 7, ["name"] = new string('n', 201) }),
            ["annotations"] = new JsonArray(),
        };
        var zip = DatasetTests.Zip([("annotations/instances.json", Encoding.UTF8.GetBytes(coco.ToJsonString())), ("images/a.jpg", ImageCodec.EncodeJpeg(TestImages.Quadrants(64, 48)))]);
        await Refused(await _http.PostAsync("/api/projects/import?format=coco&name=long-names", HttpExtensions.ZipUpload(zip)), 400, "category 7", "200");
        Assert.DoesNotContain(await (await _http.GetAsync("/api/projects")).Read<List<ProjectDto>>(), p => p.Name == "long-names");
        await Refused(await _http.GetAsync($"/api/projects/{_project.Id}/export?format=coco&states=finished"), 400, "states");
        await Refused(await _http.GetAsync($"/api/projects/{_project.Id}/export?format=voc"), 400, "format");
    }

    // ---- OpenAPI -----------------------------------------------------------------------------------------------

    [Fact]
    public async Task The_OpenAPI_document_declares_integers_as_plain_integers()
    {
        var doc = await (await _http.GetAsync("/openapi/v1.json")).Content.ReadAsStringAsync();
        Assert.Contains("\"integer\"", doc);
        Assert.DoesNotContain("^-?(?:0|[1-9]\\\\d*)$", doc); // the integer-as-string pattern of NumberHandling.AllowReadingFromString
        foreach (var node in Descendants(JsonNode.Parse(doc)!))
            if (node is JsonArray types && types.Parent is JsonObject o && o["type"] == types)
                Assert.False(types.Any(t => t?.GetValue<string>() == "integer") && types.Any(t => t?.GetValue<string>() == "string"), $"integer-or-string at {o.GetPath()}");
    }

    private static IEnumerable<JsonNode> Descendants(JsonNode node)
    {
        yield return node;
        var children = node switch { JsonObject o => o.Select(p => p.Value), JsonArray a => a.AsEnumerable(), _ => [] };
        foreach (var child in children)
            if (child is not null)
                foreach (var d in Descendants(child)) yield return d;
    }

    // ---- /hubs/annotations -------------------------------------------------------------------------------------

    // Raw frames: what any client may send, including argument lists no typed client would build.
    private async Task<string> HubError(RawHubClient hub, string method, params object?[] args)
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => hub.CallAsync(method, args!));
        Assert.True(hub.IsOpen, "the connection stays up after a bad call");
        return e.Message;
    }

    private async Task<string> HubError(HubClient hub, string method, params object?[] args)
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => hub.CallAsync(method, args));
        Assert.True(hub.IsOpen, "the connection stays up after a bad call");
        return e.Message;
    }

    [Fact]
    public async Task Hub_calls_with_wrong_arguments_say_which_argument_and_why()
    {
        var members = new ProjectMembers(_app, _http);
        await using var hub = await RawHubClient.ConnectAsync(_app.Server, await members.HubPathAsync("/hubs/annotations", _project.Id, "mallory"));
        await hub.CallAsync("JoinImage", _image.Id);
        Assert.Contains("Submit(op): op is required", await HubError(hub, "Submit", [null]));
        Assert.Contains("argument 'imageId'", await HubError(hub, "JoinImage", "not-a-guid"));
        Assert.Contains("takes 1 argument(s); the call sent 0", await HubError(hub, "JoinImage"));
        Assert.Contains("argument 'request'", await HubError(hub, "RejectImage", _image.Id, 99));
        Assert.Contains("reason", await HubError(hub, "RejectImage", _image.Id, new { reason = 5 }));
        Assert.Contains("argument 'imageId'", await HubError(hub, "SubmitImage", "image-1"));
        Assert.Contains("no hub method named 'DropTables'", await HubError(hub, "DropTables", 1));
        var badGuid = await HubError(hub, "Submit", new { clientOpId = "x1", imageId = _image.Id, type = "create", annotationId = "abc" });
        Assert.Contains("argument 'op'", badGuid);
        Assert.Contains("annotationId", badGuid);
        Assert.Contains("argument 'lastSeq'", await HubError(hub, "Resume", _image.Id, "yesterday"));
        Assert.Contains("lastSeq", await HubError(hub, "Resume", _image.Id, -1));
        Assert.Contains("comment is required", await HubError(hub, "AddComment", _image.Id, null));
        Assert.Contains("at most 5000", await HubError(hub, "AddComment", _image.Id, new { x = 1, y = 1, text = new string('t', 5001) }));

        // Integer enums inside an op are refused with the property named; nothing is stored.
        var label = _project.Labels[0].Id;
        var ack = await hub.CallAsync("Submit", new { clientOpId = "x2", imageId = _image.Id, type = "create", annotationId = Guid.NewGuid(),
            changes = new { labelId = label, kind = "box", geometry = new { x = 1, y = 1, width = 5, height = 5 }, state = 9 } });
        Assert.Contains("changes.state", ack.GetProperty("rejected").GetString());
        ack = await hub.CallAsync("Submit", new { clientOpId = "x3", imageId = _image.Id, type = "create", annotationId = Guid.NewGuid(),
            changes = new { labelId = label, kind = "box", geometry = new { x = 1, y = 1, width = 5, height = 5 }, colour = "red" } });
        Assert.Contains("changes.colour", ack.GetProperty("rejected").GetString());
        // The op's type is an enum (issue #20): an unknown one is a binding error naming the property and the choices.
        var paint = await HubError(hub, "Submit", new { clientOpId = "x4", imageId = _image.Id, type = "paint", annotationId = Guid.NewGuid() });
        Assert.Contains("type: use one of create, update, delete", paint);
        ack = await hub.CallAsync("Submit", new { clientOpId = "", imageId = _image.Id, type = "delete", annotationId = Guid.NewGuid() });
        Assert.Contains("clientOpId", ack.GetProperty("rejected").GetString());
        Assert.Empty(await StoredAnnotations());
        Assert.Equal(VisionLabel.Server.Data.ImageStatus.New, (await (await _http.GetAsync($"/api/images/{_image.Id}")).Read<ImageDto>()).Status);

        await using var live = await RawHubClient.ConnectAsync(_app.Server, await members.HubPathAsync("/hubs/live", _project.Id, "mallory"));
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => live.CallAsync("WatchJob", "job-1"));
        Assert.Contains("argument", e.Message);
        Assert.True(live.IsOpen);
    }

    /// <summary>A polygon of <paramref name="points"/> points on a circle inside the 640x480 image.</summary>
    private static double[] Circle(int points)
    {
        var ring = new double[points * 2];
        for (int i = 0; i < points; i++)
        {
            ring[2 * i] = Math.Round(320 + 200 * Math.Cos(2 * Math.PI * i / points), 3);
            ring[2 * i + 1] = Math.Round(240 + 200 * Math.Sin(2 * Math.PI * i / points), 3);
        }
        return ring;
    }

    [Fact]
    public async Task A_10000_point_polygon_is_accepted_and_a_2_MB_op_refused_on_a_connection_that_stays_up()
    {
        var (alice, _) = await ImageReplica.ConnectAsync(_app, _image.Id, "alice");
        var (bob, bobView) = await ImageReplica.ConnectAsync(_app, _image.Id, "bob");
        var label = _project.Labels[0].Id;
        var big = Guid.NewGuid();
        var ack = await alice.CallAsync("Submit", new { clientOpId = "big", imageId = _image.Id, type = "create", annotationId = big,
            changes = new { labelId = label, kind = "polygon", geometry = new { rings = new[] { Circle(10_000) } } } });
        Assert.Equal(1, ack.GetProperty("seq").GetInt64());
        await bobView.WaitForSeq(1);
        Assert.Equal(20_000, bobView.Annotations[big]["geometry"]!["rings"]![0]!.AsArray().Count);

        // About 2 MB of coordinates: refused with the reason; the same connection goes on working.
        ack = await alice.CallAsync("Submit", new { clientOpId = "huge", imageId = _image.Id, type = "update", annotationId = big,
            changes = new { geometry = new { rings = new[] { Circle(100_000) } } } });
        Assert.Contains("at most 1,048,576 are accepted", ack.GetProperty("rejected").GetString());
        Assert.True(alice.IsOpen);
        ack = await alice.CallAsync("Submit", new { clientOpId = "after", imageId = _image.Id, type = "update", annotationId = big, changes = new { state = "rejected" } });
        Assert.Equal(2, ack.GetProperty("seq").GetInt64());
        var stored = Assert.Single(await StoredAnnotations());
        Assert.Equal(20_000, stored.GetProperty("geometry").GetProperty("rings")[0].GetArrayLength());
        await alice.DisposeAsync();
        await bob.DisposeAsync();
    }

    [Fact]
    public async Task Presence_throttling_always_delivers_the_last_state_of_a_burst()
    {
        var (alice, _) = await ImageReplica.ConnectAsync(_app, _image.Id, "alice");
        var (bob, _) = await ImageReplica.ConnectAsync(_app, _image.Id, "bob");
        // Ten cursor moves as fast as they can be sent: well inside one 50 ms window after the first.
        for (int i = 0; i < 10; i++) await bob.CallAsync("UpdatePresence", _image.Id, new { cursor = new { x = i * 10, y = 5 } });
        var last = await alice.WaitFor("PresenceChanged", TimeSpan.FromSeconds(2), a => a[0].GetProperty("presence").GetProperty("cursor").GetProperty("x").GetInt32() == 90);
        Assert.Equal("bob", last[0].GetProperty("participant").GetProperty("name").GetString());
        int delivered = alice.Received.Count(r => r.Target == "PresenceChanged");
        Assert.True(delivered < 10, $"throttled: {delivered} of 10 delivered");
        Assert.Contains("over 16,384 bytes", await HubError(bob, "UpdatePresence", _image.Id, new { selection = Enumerable.Range(0, 5000).ToArray() }));
        await alice.DisposeAsync();
        await bob.DisposeAsync();
    }
}
