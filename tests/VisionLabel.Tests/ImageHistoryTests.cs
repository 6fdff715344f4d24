using System.Net;
using System.Text.Json;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// An image's history (issue #27) through HTTP: an annotator and the owner make a create, a model proposal, a move with
/// a relabel, an accept, a delete and an undo; the history reads them back newest first in pages, and the state after
/// each op is what was worked out by hand here.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class ImageHistoryTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!, _annotator = null!;
    private ProjectDto _project = null!;
    private ImageDto _image = null!;

    public async ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path);
        _owner = _app.Client("olga", admin: false);
        (_project, _image) = await _owner.ProjectWithImage("history", ["car", "person", "dog"], 200, 100);
        _annotator = _app.Client("ann", admin: false);
        (await _owner.PostJson($"/api/projects/{_project.Id}/members", new { user = "ann", role = "annotator" })).EnsureSuccessStatusCode();
    }

    public ValueTask DisposeAsync()
    {
        _app.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private Guid Car => _project.Labels[0].Id;
    private Guid Person => _project.Labels[1].Id;
    private Guid Dog => _project.Labels[2].Id;
    private string Annotations => $"/api/images/{_image.Id}/annotations";
    private string History => $"/api/images/{_image.Id}/history";

    /// <summary>The six ops of the tests' history; returns the two annotations' ids (a: the annotator's box, b: the proposal).</summary>
    private async Task<(Guid A, Guid B)> MakeHistoryAsync()
    {
        // 1: ann draws a car. 2: olga adds a model's proposal of a person.
        var a = await (await _annotator.PostJson(Annotations, new { labelId = Car, kind = "box", geometry = new { x = 10, y = 10, width = 20, height = 20 } })).Read<AnnotationDto>();
        var b = await (await _owner.PostJson(Annotations, new
        {
            labelId = Person, kind = "box", geometry = new { x = 100, y = 20, width = 30, height = 40 }, source = new { type = "model", modelId = "det-1", score = 0.9 },
        })).Read<AnnotationDto>();
        // 3: ann moves the car and relabels it a person, in one change. 4: olga accepts the proposal. 5: olga deletes ann's box.
        (await _annotator.PatchJson($"{Annotations}/{a.Id}", new { version = 1, labelId = Person, geometry = new { x = 15, y = 12, width = 20, height = 20 } })).EnsureSuccessStatusCode();
        (await _owner.PatchJson($"{Annotations}/{b.Id}", new { version = 1, state = "accepted" })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NoContent, (await _owner.DeleteAsync($"{Annotations}/{a.Id}")).StatusCode);
        // 6: olga undoes her delete (undo is the hub's): the box is back as it was.
        await using var hub = await HubClient.ConnectAsync(_app.Server, _app.HubPath("/hubs/annotations", "olga", admin: false));
        Assert.Equal(6, (await hub.CallAsync("Undo", _image.Id)).GetProperty("seq").GetInt64());
        return (a.Id, b.Id);
    }

    private static string Seqs(HistoryPage page) => string.Join(' ', page.Items.Select(i => i.Seq));

    private async Task<HistoryPage> Page(string query = "") => await (await _annotator.GetAsync(History + query)).Read<HistoryPage>();

    [Fact]
    public async Task The_history_lists_who_did_what_newest_first_in_pages()
    {
        var (a, b) = await MakeHistoryAsync();
        var all = await Page();
        Assert.Null(all.NextBefore);
        Assert.Equal(new (long, string, OpType, Guid, string, long?)[]
        {
            (6L, "olga", OpType.Create, a, "undo of #5", (long?)5),
            (5L, "olga", OpType.Delete, a, "deleted box person", null),
            (4L, "olga", OpType.Update, b, "accepted", null),
            (3L, "ann", OpType.Update, a, "relabelled car → person, moved/reshaped", null),
            (2L, "olga", OpType.Create, b, "proposed box person", null),
            (1L, "ann", OpType.Create, a, "created box car", null),
        }, all.Items.Select(i => (i.Seq, i.Author, i.Type, i.AnnotationId, i.What, i.UndoOf)));
        // Each op names the annotation's label and kind as they were then (the car became a person at op 3).
        Assert.Equal(["person", "person", "person", "person", "person", "car"], all.Items.Select(i => i.LabelName));
        Assert.Equal([Person, Person, Person, Person, Person, Car], all.Items.Select(i => i.LabelId!.Value));
        Assert.All(all.Items, i => Assert.Equal(AnnotationKind.Box, i.Kind));
        Assert.All(all.Items, i => Assert.Null(i.RedoOf));
        Assert.True(all.Items.Zip(all.Items.Skip(1)).All(p => p.First.At >= p.Second.At));

        // Pages of two: each starts where the last one's nextBefore says; the last has none. A page that starts with
        // an update (op 4) still knows its annotation's label and kind from before the page.
        var first = await Page("?limit=2");
        Assert.Equal(("6 5", (long?)5), (Seqs(first), first.NextBefore));
        var second = await Page($"?before={first.NextBefore}&limit=2");
        Assert.Equal(("4 3", (long?)3), (Seqs(second), second.NextBefore));
        Assert.Equal(("accepted", "person", AnnotationKind.Box), (second.Items[0].What, second.Items[0].LabelName, second.Items[0].Kind!.Value));
        var third = await Page($"?before={second.NextBefore}&limit=2");
        Assert.Equal(("2 1", (long?)null), (Seqs(third), third.NextBefore));
        Assert.Empty((await Page("?before=1")).Items);
    }

    private async Task<Dictionary<Guid, HistoricAnnotation>> StateAfter(long seq, string author)
    {
        var state = await (await _annotator.GetAsync($"{History}/{seq}/state")).Read<HistoryState>();
        Assert.Equal((seq, author), (state.Seq, state.Author));
        return state.Annotations.ToDictionary(x => x.Id);
    }

    private static (double X, double Y, double W, double H) Box(JsonElement g) =>
        (g.GetProperty("x").GetDouble(), g.GetProperty("y").GetDouble(), g.GetProperty("width").GetDouble(), g.GetProperty("height").GetDouble());

    [Fact]
    public async Task The_state_after_an_op_is_the_log_replayed_to_it()
    {
        var (a, b) = await MakeHistoryAsync();

        var s1 = await StateAfter(1, "ann");
        Assert.Equal([a], s1.Keys);
        Assert.Equal((Car, AnnotationKind.Box, (10.0, 10.0, 20.0, 20.0), AnnotationState.Accepted, AnnotationSourceType.Human),
            (s1[a].LabelId, s1[a].Kind, Box(s1[a].Geometry), s1[a].State, s1[a].Source.Type));

        var s2 = await StateAfter(2, "olga");
        Assert.Equal([a, b], s2.Keys.Order());
        Assert.Equal((Person, (100.0, 20.0, 30.0, 40.0), AnnotationState.Proposed, AnnotationSourceType.Model, "det-1", 0.9),
            (s2[b].LabelId, Box(s2[b].Geometry), s2[b].State, s2[b].Source.Type, s2[b].Source.ModelId, s2[b].Source.Score));

        var s3 = await StateAfter(3, "ann");
        Assert.Equal((Person, (15.0, 12.0, 20.0, 20.0)), (s3[a].LabelId, Box(s3[a].Geometry)));
        Assert.Equal(AnnotationState.Proposed, s3[b].State);

        var s4 = await StateAfter(4, "olga");
        Assert.Equal(AnnotationState.Accepted, s4[b].State);

        var s5 = await StateAfter(5, "olga");
        Assert.Equal([b], s5.Keys);

        // After the undo the box is back as it was deleted (moved, a person), and the state equals the live annotations.
        var s6 = await StateAfter(6, "olga");
        Assert.Equal([a, b], s6.Keys.Order());
        Assert.Equal((Person, (15.0, 12.0, 20.0, 20.0), AnnotationState.Accepted), (s6[a].LabelId, Box(s6[a].Geometry), s6[a].State));
        var live = await (await _annotator.GetAsync(Annotations)).Read<List<AnnotationDto>>();
        Assert.Equal(
            live.OrderBy(x => x.Id).Select(x => (x.Id, x.LabelId, x.Kind, x.Geometry.GetRawText(), x.Attributes.GetRawText(), x.State, x.Source)),
            s6.Values.OrderBy(x => x.Id).Select(x => (x.Id, x.LabelId, x.Kind, x.Geometry.GetRawText(), x.Attributes.GetRawText(), x.State, x.Source)));
    }

    [Fact]
    public async Task Each_kind_of_change_has_its_words_and_a_deleted_label_is_said()
    {
        // 1 create, 2 attributes, 3 reject (it was accepted), 4 back to proposed, 5 undo, 6 redo, then the owner deletes
        // the label with its annotations: 7 a delete of the polygon.
        var dog = await (await _annotator.PostJson(Annotations, new { labelId = Dog, kind = "polygon", geometry = new { rings = new[] { new double[] { 10, 10, 60, 10, 35, 50 } } } })).Read<AnnotationDto>();
        (await _annotator.PatchJson($"{Annotations}/{dog.Id}", new { version = 1, attributes = new { occluded = true } })).EnsureSuccessStatusCode();
        (await _annotator.PatchJson($"{Annotations}/{dog.Id}", new { version = 2, state = "rejected" })).EnsureSuccessStatusCode();
        (await _annotator.PatchJson($"{Annotations}/{dog.Id}", new { version = 3, state = "proposed" })).EnsureSuccessStatusCode();
        await using (var hub = await HubClient.ConnectAsync(_app.Server, _app.HubPath("/hubs/annotations", "ann", admin: false)))
        {
            Assert.Equal(5, (await hub.CallAsync("Undo", _image.Id)).GetProperty("seq").GetInt64());
            Assert.Equal(6, (await hub.CallAsync("Redo", _image.Id)).GetProperty("seq").GetInt64());
        }
        Assert.Equal(HttpStatusCode.NoContent, (await _owner.DeleteAsync($"/api/projects/{_project.Id}/labels/{Dog}?deleteAnnotations=true")).StatusCode);

        var all = await Page();
        Assert.Equal(
            ["olga: deleted polygon (deleted label)", "ann: redo (reverts the undo #5)", "ann: undo of #4", "ann: set back to proposed", "ann: rejected", "ann: set attributes", "ann: created polygon (deleted label)"],
            all.Items.Select(i => $"{i.Author}: {i.What}"));
        Assert.All(all.Items, i => Assert.Equal((Dog, AnnotationKind.Polygon), (i.LabelId!.Value, i.Kind!.Value)));
        Assert.All(all.Items, i => Assert.Null(i.LabelName)); // the label is gone (names are read now); its id stays
        Assert.Equal((5L, (long?)4, (long?)null), (all.Items[2].Seq, all.Items[2].UndoOf, all.Items[2].RedoOf));
        Assert.Equal((6L, (long?)null, (long?)5), (all.Items[1].Seq, all.Items[1].UndoOf, all.Items[1].RedoOf));
        // A page of updates only: the label and kind come from the create before it.
        var middle = await Page("?before=5&limit=2");
        Assert.Equal(("4 3", (long?)3), (Seqs(middle), middle.NextBefore));
        Assert.All(middle.Items, i => Assert.Equal((Dog, AnnotationKind.Polygon), (i.LabelId!.Value, i.Kind!.Value)));

        // The state after the attributes change has them; after the delete there is nothing.
        var s2 = await StateAfter(2, "ann");
        Assert.True(s2[dog.Id].Attributes.GetProperty("occluded").GetBoolean());
        Assert.Equal(AnnotationState.Accepted, s2[dog.Id].State);
        Assert.Equal(AnnotationState.Rejected, (await StateAfter(5, "ann"))[dog.Id].State); // the undo of "back to proposed"
        Assert.Empty(await StateAfter(7, "olga"));
    }

    [Fact]
    public async Task A_private_copy_has_its_history_for_its_owner_and_reviewers_only()
    {
        // Consensus: each annotator pulls a private copy of the image (docs/workflow.md).
        var project = await (await _owner.PostJson("/api/projects", new { name = "copies", labels = new[] { new { name = "car" } } })).Read<ProjectDto>();
        var images = await _owner.UploadImagesAsync(project.Id, 1);
        (await _owner.WorkflowAsync(project.Id, new { overlap = 2, quorum = 0.5, agreementThreshold = 0.8 })).EnsureSuccessStatusCode();
        var bea = _app.Client("bea", admin: false);
        foreach (var user in new[] { "ann", "bea" })
            (await _owner.PostJson($"/api/projects/{project.Id}/members", new { user, role = "annotator" })).EnsureSuccessStatusCode();
        var copy = (await _annotator.NextIdAsync(project.Id))!.Value;
        Assert.NotEqual(images[0], copy);
        (await _annotator.PostJson($"/api/images/{copy}/annotations", new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 5, height = 5 } })).EnsureSuccessStatusCode();

        foreach (var reader in new[] { _annotator, _owner })
        {
            var page = await (await reader.GetAsync($"/api/images/{copy}/history")).Read<HistoryPage>();
            Assert.Equal("ann: created box car", $"{Assert.Single(page.Items).Author}: {page.Items[0].What}");
            Assert.Single((await (await reader.GetAsync($"/api/images/{copy}/history/1/state")).Read<HistoryState>()).Annotations);
        }
        // Another annotator of the project: as if there were no such image.
        Assert.Equal("Image not found", (await (await bea.GetAsync($"/api/images/{copy}/history")).Problem(404)).GetProperty("title").GetString());
        Assert.Equal("Image not found", (await (await bea.GetAsync($"/api/images/{copy}/history/1/state")).Problem(404)).GetProperty("title").GetString());
    }

    [Fact]
    public async Task Bad_input_and_strangers_are_refused()
    {
        await MakeHistoryAsync();
        var beyond = await (await _annotator.GetAsync($"{History}/7/state")).Problem(404);
        Assert.Contains("ops 1 to 6", beyond.GetProperty("detail").GetString());
        foreach (var (query, field) in new[] { ("?limit=0", "limit"), ("?limit=501", "limit"), ("?limit=many", "limit"), ("?before=0", "before") })
            Assert.True((await (await _annotator.GetAsync(History + query)).Problem(400)).GetProperty("errors").TryGetProperty(field, out _), query);
        Assert.True((await (await _annotator.GetAsync($"{History}/0/state")).Problem(400)).GetProperty("errors").TryGetProperty("seq", out _));
        Assert.Equal(6, (await Page("?limit=500")).Items.Count); // the most a page may ask for

        // A member of another project only: the same 404 as for an image that does not exist, for both routes.
        var stranger = _app.Client("sam", admin: false);
        (await stranger.PostJson("/api/projects", new { name = "sams-own" })).EnsureSuccessStatusCode();
        Assert.Equal("Image not found", (await (await stranger.GetAsync(History)).Problem(404)).GetProperty("title").GetString());
        Assert.Equal("Image not found", (await (await stranger.GetAsync($"{History}/1/state")).Problem(404)).GetProperty("title").GetString());
        Assert.Equal("Image not found", (await (await _owner.GetAsync($"/api/images/{Guid.NewGuid()}/history")).Problem(404)).GetProperty("title").GetString());
    }
}
