using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Imaging;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>Several people editing one image at once over /hubs/annotations, speaking the JSON hub protocol.</summary>
[Trait("Tier", Tiers.Api)]
public class CollaborationTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _http = null!;
    private ProjectDto _project = null!;
    private ImageDto _image = null!;

    public async ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path);
        _http = _app.Client("rest-user", admin: false);
        (_project, _image) = await _http.ProjectWithImage("collab", ["a", "b", "c"], 640, 480);
        _members = new ProjectMembers(_app, _http);
    }

    public ValueTask DisposeAsync()
    {
        _app.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private Task<(HubClient Hub, ImageReplica Replica)> Connect(string user, ImageReplica? replica = null, long? resumeFrom = null) =>
        ImageReplica.ConnectAsync(async () => await HubClient.ConnectAsync(_app.Server, await Member(user)), _image.Id, replica, resumeFrom);

    private ProjectMembers _members = null!;

    /// <summary>The hub path of a project member (not an admin): bob reviews, everyone else annotates.</summary>
    private Task<string> Member(string user) =>
        _members.HubPathAsync("/hubs/annotations", _project.Id, user, user == "bob" ? "reviewer" : "annotator");

    private static object Submit(string clientOpId, Guid imageId, string type, Guid annotationId, object? changes = null) =>
        new { clientOpId, imageId, type, annotationId, changes };

    /// <summary>
    /// The wire format other clients (browsers, Python scripts) rely on, frame by frame, with no SignalR library on this
    /// side: JSON records ending in 0x1e, the handshake, the snapshot from JoinImage, the ack of Submit and the Applied
    /// broadcast with its exact property names. The other tests use the .NET client.
    /// </summary>
    [Fact]
    public async Task The_wire_format_for_other_clients()
    {
        await using var alice = await RawHubClient.ConnectAsync(_app.Server, await Member("alice"));
        await using var bob = await RawHubClient.ConnectAsync(_app.Server, await Member("bob"));
        var snapshot = await alice.CallAsync("JoinImage", _image.Id);
        Assert.Equal(["annotations", "comments", "imageId", "participants", "seq"], snapshot.EnumerateObject().Select(p => p.Name).Order());
        await bob.CallAsync("JoinImage", _image.Id);

        var id = Guid.NewGuid();
        var ack = await alice.CallAsync("Submit", new
        {
            clientOpId = "wire-1", imageId = _image.Id, type = "create", annotationId = id,
            changes = new { labelId = _project.Labels[0].Id, kind = "box", geometry = new { x = 10, y = 20, width = 30, height = 40 } },
        });
        Assert.Equal(("wire-1", 1L), (ack.GetProperty("clientOpId").GetString(), ack.GetProperty("seq").GetInt64()));

        var applied = (await bob.WaitFor("Applied", TimeSpan.FromSeconds(5)))[0];
        Assert.Equal(["authorId", "op", "seq"], applied.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal((1L, "alice"), (applied.GetProperty("seq").GetInt64(), applied.GetProperty("authorId").GetString()));
        var op = applied.GetProperty("op");
        Assert.Equal(("wire-1", "create", id), (op.GetProperty("clientOpId").GetString(), op.GetProperty("type").GetString(), op.GetProperty("annotationId").GetGuid()));
        Assert.Equal("box", op.GetProperty("changes").GetProperty("kind").GetString());
        Assert.Equal(30, op.GetProperty("changes").GetProperty("geometry").GetProperty("width").GetDouble());
        await alice.WaitFor("Applied", TimeSpan.FromSeconds(5)); // the author gets its own op in server order too
    }

    [Fact]
    public async Task Concurrent_editors_with_disconnects_converge_and_lose_nothing()
    {
        const int clients = 6, opsPerClient = 40;
        var known = new ConcurrentDictionary<Guid, bool>();
        var acks = new ConcurrentBag<(string User, string ClientOpId, long? Seq, string? Rejected)>();
        var replicas = new ImageReplica[clients];
        var hubs = new HubClient[clients];
        for (int c = 0; c < clients; c++) (hubs[c], replicas[c]) = await Connect($"user{c}");

        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(1000 + c); // fixed seeds: the same workload every run
            for (int i = 0; i < opsPerClient; i++)
            {
                if (i == opsPerClient / 2 && c < 2)
                {
                    // Drop the connection mid-way, come back, resume from the last seq seen, and resend the last op:
                    // it must be acknowledged with its original seq, not applied again.
                    var lastAck = acks.Where(a => a.User == $"user{c}" && a.Seq is not null).MaxBy(a => a.Seq);
                    await hubs[c].DisposeAsync();
                    await Task.Delay(random.Next(20, 100));
                    (hubs[c], replicas[c]) = await Connect($"user{c}", replicas[c], replicas[c].Seq);
                    if (lastAck.ClientOpId is not null)
                    {
                        var again = await hubs[c].CallAsync("Submit", Submit(lastAck.ClientOpId, _image.Id, "delete", Guid.NewGuid()));
                        Assert.Equal(lastAck.Seq, again.GetProperty("seq").GetInt64());
                    }
                }
                var ids = known.Keys.ToList();
                double roll = random.NextDouble();
                string clientOpId = $"c{c}-{i}";
                object op;
                Guid? creating = null;
                if (roll < 0.3 || ids.Count == 0)
                {
                    var id = Guid.CreateVersion7();
                    creating = id; // others may pick it only once its create is acknowledged, as real clients see it
                    op = Submit(clientOpId, _image.Id, "create", id, new
                    {
                        labelId = _project.Labels[random.Next(3)].Id, kind = "box",
                        geometry = new { x = random.Next(0, 300), y = random.Next(0, 200), width = random.Next(5, 300), height = random.Next(5, 250) },
                    });
                }
                else if (roll < 0.8)
                {
                    var id = ids[random.Next(ids.Count)];
                    object changes = random.Next(4) switch
                    {
                        0 => new { labelId = _project.Labels[random.Next(3)].Id },
                        1 => new { geometry = new { x = random.Next(0, 300), y = random.Next(0, 200), width = random.Next(5, 300), height = random.Next(5, 250) } },
                        2 => new { attributes = new { by = c, n = i } },
                        _ => new { state = random.Next(2) == 0 ? "accepted" : "rejected" },
                    };
                    op = Submit(clientOpId, _image.Id, "update", id, changes);
                }
                else op = Submit(clientOpId, _image.Id, "delete", ids[random.Next(ids.Count)]);

                var ack = await hubs[c].CallAsync("Submit", op);
                long? seq = ack.GetProperty("seq").ValueKind == JsonValueKind.Number ? ack.GetProperty("seq").GetInt64() : null;
                string? rejected = ack.TryGetProperty("rejected", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                Assert.True(seq is not null ^ rejected is not null, $"ack must be either applied or rejected: {ack}");
                acks.Add(($"user{c}", clientOpId, seq, rejected));
                if (creating is { } created && seq is not null) known[created] = true;
                await Task.Delay(random.Next(0, 5));
            }
        })));

        // The op log is gapless and holds every acknowledged op, under its author and client op id.
        List<AnnotationOp> log;
        await using (var scope = _app.Services.CreateAsyncScope())
            log = await scope.ServiceProvider.GetRequiredService<VisionLabelDb>().AnnotationOps.Where(o => o.ImageId == _image.Id).OrderBy(o => o.Seq).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(Enumerable.Range(1, log.Count).Select(i => (long)i), log.Select(o => o.Seq));
        var applied = acks.Where(a => a.Seq is not null).ToList();
        Assert.Equal(applied.Count, log.Count);
        foreach (var a in applied) Assert.Contains(log, o => o.Seq == a.Seq && o.ClientOpId == a.ClientOpId && o.AuthorId == a.User);
        Assert.All(acks.Where(a => a.Rejected is not null), a => Assert.Contains("deleted", a.Rejected)); // only races with deletes are refused
        Assert.True(acks.Count(a => a.Rejected is not null) > 0, "the workload should include update/delete races");

        // Every client converges on the server's state.
        var server = await (await _http.GetAsync($"/api/images/{_image.Id}/annotations")).Read<List<AnnotationDto>>();
        long last = log.Count;
        for (int c = 0; c < clients; c++)
        {
            await replicas[c].WaitForSeq(last, TimeSpan.FromSeconds(10));
            Assert.Equal(last, replicas[c].Seq);
            Assert.Equal(server.Select(a => a.Id).Order(), replicas[c].Annotations.Keys.Order());
            foreach (var a in server)
            {
                var mine = replicas[c].Annotations[a.Id];
                Assert.Equal(a.LabelId, mine["labelId"]!.GetValue<Guid>());
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse(a.Geometry.GetRawText()), mine["geometry"]), $"client {c}: geometry of {a.Id} differs");
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse(a.Attributes.GetRawText()), mine["attributes"]), $"client {c}: attributes of {a.Id} differ");
                Assert.Equal(JsonNamingPolicy.KebabCaseLower.ConvertName(a.State.ToString()), mine["state"]!.GetValue<string>());
            }
        }
        foreach (var hub in hubs) await hub.DisposeAsync();
    }

    [Fact]
    public async Task An_edit_that_moves_the_image_status_tells_everyone_on_the_image()
    {
        // Issue #20, bug 3: an accept moved the image to in-progress but nobody was told, so editors kept showing the
        // old status. The first person's edit of a new image moves it; later edits move nothing and send nothing.
        var (alice, _) = await Connect("alice");
        var (bob, _) = await Connect("bob");
        var id = Guid.CreateVersion7();
        await alice.CallAsync("Submit", Submit("s1", _image.Id, "create", id, new { labelId = _project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 10, height = 10 } }));
        var changed = await bob.WaitFor("ImageStatusChanged", TimeSpan.FromSeconds(5));
        Assert.Equal((_image.Id, "in-progress", "alice"), (changed[0].GetProperty("imageId").GetGuid(), changed[0].GetProperty("status").GetString(), changed[0].GetProperty("by").GetString()));
        await alice.WaitFor("ImageStatusChanged", TimeSpan.FromSeconds(5)); // the author's other tabs too

        await alice.CallAsync("Submit", Submit("s2", _image.Id, "update", id, new { attributes = new { n = 2 } }));
        await bob.WaitFor("Applied", TimeSpan.FromSeconds(5), a => a[0].GetProperty("seq").GetInt64() == 2);
        Assert.Single(bob.Received, r => r.Target == "ImageStatusChanged"); // the status was already in-progress
        Assert.Equal("in-progress", (await (await _http.GetAsync($"/api/images/{_image.Id}")).Read<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Conflicts_resolve_per_property_and_deletes_win()
    {
        var (alice, aliceView) = await Connect("alice");
        var (bob, _) = await Connect("bob");
        var id = Guid.CreateVersion7();
        var created = await alice.CallAsync("Submit", Submit("a1", _image.Id, "create", id, new { labelId = _project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 10, height = 10 } }));
        Assert.Equal(1, created.GetProperty("seq").GetInt64());

        // Different properties at once: both land.
        await Task.WhenAll(
            alice.CallAsync("Submit", Submit("a2", _image.Id, "update", id, new { labelId = _project.Labels[1].Id })),
            bob.CallAsync("Submit", Submit("b1", _image.Id, "update", id, new { geometry = new { x = 5, y = 5, width = 20, height = 20 } })));
        // The same property: the later one in server order wins.
        await alice.CallAsync("Submit", Submit("a3", _image.Id, "update", id, new { attributes = new { from = "alice" } }));
        await bob.CallAsync("Submit", Submit("b2", _image.Id, "update", id, new { attributes = new { from = "bob" } }));
        var now = await (await _http.GetAsync($"/api/images/{_image.Id}/annotations/{id}")).Read<AnnotationDto>();
        Assert.Equal((_project.Labels[1].Id, 20.0, "bob"), (now.LabelId, now.Geometry.GetProperty("width").GetDouble(), now.Attributes.GetProperty("from").GetString()));

        // Resubmitting an op (a reconnecting client unsure it landed) is acknowledged with its seq, not re-applied.
        var again = await alice.CallAsync("Submit", Submit("a3", _image.Id, "update", id, new { attributes = new { from = "alice" } }));
        Assert.Equal(4, again.GetProperty("seq").GetInt64());
        Assert.Equal("bob", (await (await _http.GetAsync($"/api/images/{_image.Id}/annotations/{id}")).Read<AnnotationDto>()).Attributes.GetProperty("from").GetString());

        // Delete wins: later updates and a re-create of the same id are rejected, with a reason, to their author only.
        await alice.CallAsync("Submit", Submit("a4", _image.Id, "delete", id));
        var late = await bob.CallAsync("Submit", Submit("b3", _image.Id, "update", id, new { state = "accepted" }));
        Assert.Contains("was deleted", late.GetProperty("rejected").GetString());
        var recreate = await bob.CallAsync("Submit", Submit("b4", _image.Id, "create", id, new { labelId = _project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 2, height = 2 } }));
        Assert.Contains("was deleted", recreate.GetProperty("rejected").GetString());
        // Resubmitted creates and deletes are recognised too, even though applying them again would now be refused.
        Assert.Equal(1, (await alice.CallAsync("Submit", Submit("a1", _image.Id, "create", id, new { labelId = _project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 10, height = 10 } }))).GetProperty("seq").GetInt64());
        Assert.Equal(6, (await alice.CallAsync("Submit", Submit("a4", _image.Id, "delete", id))).GetProperty("seq").GetInt64());
        // The ack is the one rejection channel (issue #20): no separate Rejected message, which the server sent before
        // the ack on the same connection, so it would have arrived by now.
        Assert.DoesNotContain(bob.Received.Concat(alice.Received), r => r.Target == "Rejected");

        // Invalid ops are rejected with the reason, never applied.
        var bad = await bob.CallAsync("Submit", Submit("b5", _image.Id, "create", Guid.CreateVersion7(), new { labelId = _project.Labels[0].Id, kind = "box", geometry = new { x = 600, y = 1, width = 100, height = 2 } }));
        Assert.Contains("outside", bad.GetProperty("rejected").GetString());

        // REST writes go through the same sequencer and reach the hub.
        var viaRest = await (await _http.PostJson($"/api/images/{_image.Id}/annotations", new { labelId = _project.Labels[2].Id, kind = "box", geometry = new { x = 3, y = 3, width = 3, height = 3 } })).Read<AnnotationDto>();
        var restApplied = await alice.WaitFor("Applied", TimeSpan.FromSeconds(5), a => a[0].GetProperty("op").GetProperty("annotationId").GetGuid() == viaRest.Id);
        Assert.Equal(("rest-user", 7L), (restApplied[0].GetProperty("authorId").GetString(), restApplied[0].GetProperty("seq").GetInt64()));
        await aliceView.WaitForSeq(7, TimeSpan.FromSeconds(5));
        Assert.Equal([viaRest.Id], aliceView.Annotations.Keys);

        await alice.DisposeAsync();
        await bob.DisposeAsync();
    }

    [Fact]
    public async Task Presence_is_shared_and_cleaned_up_on_disconnect()
    {
        var (alice, _) = await Connect("alice");
        var bob = await HubClient.ConnectAsync(_app.Server, await Member("bob"));
        var snapshot = await bob.CallAsync("JoinImage", _image.Id);
        Assert.Equal(["alice", "bob"], snapshot.GetProperty("participants").EnumerateArray().Select(p => p.GetProperty("name").GetString()).Order());
        await alice.WaitFor("ParticipantJoined", TimeSpan.FromSeconds(5), a => a[1].GetProperty("name").GetString() == "bob");

        await alice.CallAsync("UpdatePresence", _image.Id, new { cursor = new { x = 10, y = 20 }, tool = "box", editing = Guid.Empty });
        var seen = await bob.WaitFor("PresenceChanged", TimeSpan.FromSeconds(5));
        Assert.Equal(("alice", "box", 20), (seen[0].GetProperty("participant").GetProperty("name").GetString(),
            seen[0].GetProperty("presence").GetProperty("tool").GetString(), seen[0].GetProperty("presence").GetProperty("cursor").GetProperty("y").GetInt32()));
        Assert.DoesNotContain(alice.Received, r => r.Target == "PresenceChanged"); // not echoed to its sender

        await alice.DisposeAsync();
        await bob.WaitFor("ParticipantLeft", TimeSpan.FromSeconds(5), a => a[1].GetProperty("name").GetString() == "alice");
        await bob.CallAsync("LeaveImage", _image.Id);
        // Nobody is on the image any more, so the server keeps nothing for it (one disconnect, one leave).
        Assert.Equal(0, _app.Services.GetRequiredService<VisionLabel.Server.Annotations.PresenceRegistry>().Count);
        await bob.DisposeAsync();
    }

    [Fact]
    public async Task Undo_and_redo_revert_only_the_users_own_ops()
    {
        var (alice, _) = await Connect("alice");
        var (bob, bobView) = await Connect("bob");
        Guid x = Guid.CreateVersion7(), y = Guid.CreateVersion7();
        object Box(int w) => new { labelId = _project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = w, height = 10 } };
        await alice.CallAsync("Submit", Submit("a1", _image.Id, "create", x, Box(10)));
        await bob.CallAsync("Submit", Submit("b1", _image.Id, "create", y, Box(20)));
        await alice.CallAsync("Submit", Submit("a2", _image.Id, "update", x, new { attributes = new { v = 1 } }));
        await bob.CallAsync("Submit", Submit("b2", _image.Id, "update", y, new { state = "rejected" }));

        async Task<AnnotationDto?> Get(Guid id)
        {
            var r = await _http.GetAsync($"/api/images/{_image.Id}/annotations/{id}");
            return r.IsSuccessStatusCode ? await r.Read<AnnotationDto>() : null;
        }

        // Alice's undo reverts her attribute change, not Bob's later state change.
        Assert.Equal(5, (await alice.CallAsync("Undo", _image.Id)).GetProperty("seq").GetInt64());
        Assert.False((await Get(x))!.Attributes.TryGetProperty("v", out _));
        Assert.Equal(AnnotationState.Rejected, (await Get(y))!.State);
        // Undo again: her create goes (a new delete op).
        await alice.CallAsync("Undo", _image.Id);
        Assert.Null(await Get(x));
        Assert.Contains("nothing to undo", (await alice.CallAsync("Undo", _image.Id)).GetProperty("rejected").GetString());

        // Redo brings both back, in order; then there is nothing left to redo.
        await alice.CallAsync("Redo", _image.Id);
        Assert.Equal(10, (await Get(x))!.Geometry.GetProperty("width").GetInt32());
        await alice.CallAsync("Redo", _image.Id);
        Assert.Equal(1, (await Get(x))!.Attributes.GetProperty("v").GetInt32());
        Assert.Contains("nothing to redo", (await alice.CallAsync("Redo", _image.Id)).GetProperty("rejected").GetString());

        // Bob's undo is his own; a new change after an undo clears the redo stack.
        await bob.CallAsync("Undo", _image.Id);
        Assert.Equal(AnnotationState.Accepted, (await Get(y))!.State);
        await bob.CallAsync("Submit", Submit("b3", _image.Id, "update", y, new { attributes = new { n = 2 } }));
        Assert.Contains("nothing to redo", (await bob.CallAsync("Redo", _image.Id)).GetProperty("rejected").GetString());

        // Everyone saw every undo and redo as ordinary ops.
        long seq = (await alice.CallAsync("Resume", _image.Id, 0L)).GetProperty("seq").GetInt64();
        await bobView.WaitForSeq(seq, TimeSpan.FromSeconds(5));
        Assert.Equal(new[] { x, y }.Order(), bobView.Annotations.Keys.Order());
        Assert.Equal(1, bobView.Annotations[x]["attributes"]!["v"]!.GetValue<int>());
        await alice.DisposeAsync();
        await bob.DisposeAsync();
    }

    [Fact]
    public async Task Review_status_and_comment_pins_reach_everyone()
    {
        var (alice, _) = await Connect("alice");
        var (bob, _) = await Connect("bob");
        await alice.CallAsync("SubmitImage", _image.Id);
        var submitted = await bob.WaitFor("ImageStatusChanged", TimeSpan.FromSeconds(5));
        Assert.Equal(("submitted", "alice"), (submitted[0].GetProperty("status").GetString(), submitted[0].GetProperty("by").GetString()));

        await bob.CallAsync("ApproveImage", _image.Id);
        await alice.WaitFor("ImageStatusChanged", TimeSpan.FromSeconds(5), a => a[0].GetProperty("status").GetString() == "approved");

        var comment = await alice.CallAsync("AddComment", _image.Id, new { x = 100.5, y = 40, text = "is this a dog?" });
        var seen = await bob.WaitFor("CommentAdded", TimeSpan.FromSeconds(5));
        Assert.Equal(("is this a dog?", "alice", false), (seen[0].GetProperty("text").GetString(), seen[0].GetProperty("author").GetString(), seen[0].GetProperty("resolved").GetBoolean()));
        await bob.CallAsync("ResolveComment", _image.Id, comment.GetProperty("id").GetGuid(), true);
        await alice.WaitFor("CommentChanged", TimeSpan.FromSeconds(5), a => a[0].GetProperty("resolved").GetBoolean());

        var listed = await (await _http.GetAsync($"/api/images/{_image.Id}/comments")).Read<List<JsonElement>>();
        Assert.True(Assert.Single(listed).GetProperty("resolved").GetBoolean());
        var late = await HubClient.ConnectAsync(_app.Server, await Member("carol"));
        Assert.Single((await late.CallAsync("JoinImage", _image.Id)).GetProperty("comments").EnumerateArray());
        await Assert.ThrowsAsync<InvalidOperationException>(() => late.CallAsync("AddComment", _image.Id, new { x = 5000, y = 1, text = "off the image" }));
        await (await _http.PostJson($"/api/images/{_image.Id}/comments", new { x = 1, y = 1, text = "" })).Problem(400);
        await late.DisposeAsync();
        await alice.DisposeAsync();
        await bob.DisposeAsync();
    }
}
