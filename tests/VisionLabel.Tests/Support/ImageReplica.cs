using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.TestHost;

namespace VisionLabel.Tests.Support;

/// <summary>
/// A client's copy of one image on /hubs/annotations, as a browser keeps it: annotations by id (properties as
/// JSON), the last seq applied, and every op it applied in order. Applying asserts the seq is gapless.
/// </summary>
public sealed class ImageReplica
{
    private readonly Lock _lock = new();
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];
    public Dictionary<Guid, JsonObject> Annotations { get; } = [];
    public List<(long Seq, string Type, Guid AnnotationId, string Author)> Log { get; } = [];
    public long Seq { get; private set; }

    public void Load(JsonElement snapshot)
    {
        lock (_lock)
        {
            Annotations.Clear();
            foreach (var a in snapshot.GetProperty("annotations").EnumerateArray())
                Annotations[a.GetProperty("id").GetGuid()] = new JsonObject
                {
                    ["labelId"] = a.GetProperty("labelId").GetGuid(), ["kind"] = a.GetProperty("kind").GetString(),
                    ["geometry"] = JsonNode.Parse(a.GetProperty("geometry").GetRawText()), ["attributes"] = JsonNode.Parse(a.GetProperty("attributes").GetRawText()),
                    ["state"] = a.GetProperty("state").GetString(),
                };
            Seq = snapshot.GetProperty("seq").GetInt64();
            foreach (var seq in _held.Keys.Where(k => k <= Seq).ToList()) _held.Remove(seq);
            while (_held.Remove(Seq + 1, out var next)) ApplyNext(next);
            Release();
        }
    }

    /// <summary>Ops that arrived ahead of a missing one (from another server process, say), applied once it comes.</summary>
    private readonly SortedDictionary<long, JsonElement> _held = [];

    /// <summary>Whether ops wait for a missing one (a client would Resume if the gap does not fill).</summary>
    public bool HasGap { get { lock (_lock) return _held.Count > 0; } }

    /// <summary>
    /// Applies ops in seq order, as a browser does: ones at or below our seq were already in our snapshot; one
    /// ahead of the next is held back until the gap fills (Applied from different server processes can cross).
    /// </summary>
    public void Apply(JsonElement applied)
    {
        lock (_lock)
        {
            long seq = applied.GetProperty("seq").GetInt64();
            if (seq <= Seq) return;
            _held[seq] = applied.Clone();
            while (_held.Remove(Seq + 1, out var next)) ApplyNext(next);
            Release();
        }
    }

    private void ApplyNext(JsonElement applied)
    {
        {
            long seq = applied.GetProperty("seq").GetInt64();
            var op = applied.GetProperty("op");
            var id = op.GetProperty("annotationId").GetGuid();
            string type = op.GetProperty("type").GetString()!;
            switch (type)
            {
                case "create":
                    Annotations[id] = new JsonObject();
                    goto case "update";
                case "update":
                    foreach (var p in op.GetProperty("changes").EnumerateObject())
                        if (p.Name != "source") Annotations[id][p.Name] = JsonNode.Parse(p.Value.GetRawText());
                    break;
                case "delete":
                    Annotations.Remove(id);
                    break;
            }
            Seq = seq;
            Log.Add((seq, type, id, applied.GetProperty("authorId").GetString()!));
        }
    }

    /// <summary>Completes when this replica has applied op <paramref name="seq"/> (an event, not a poll).</summary>
    public Task WaitForSeq(long seq, TimeSpan? timeout = null)
    {
        lock (_lock)
        {
            if (Seq >= seq) return Task.CompletedTask;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((seq, done));
            return done.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        }
    }

    private void Release()
    {
        foreach (var w in _waiters.Where(w => w.Target <= Seq).ToList())
        {
            w.Done.TrySetResult();
            _waiters.Remove(w);
        }
    }

    /// <summary>The properties a replica keeps, from the REST representation, for comparing with the server.</summary>
    public static Dictionary<Guid, string> Canonical(IEnumerable<JsonElement> annotations) => annotations.ToDictionary(
        a => a.GetProperty("id").GetGuid(),
        a => Canonical(a.GetProperty("labelId").GetGuid(), a.GetProperty("kind").GetString()!, a.GetProperty("geometry").GetRawText(),
            a.GetProperty("attributes").GetRawText(), a.GetProperty("state").GetString()!));

    public Dictionary<Guid, string> Canonical()
    {
        lock (_lock)
            return Annotations.ToDictionary(a => a.Key, a => Canonical(a.Value["labelId"]!.GetValue<Guid>(), a.Value["kind"]!.GetValue<string>(),
                a.Value["geometry"]!.ToJsonString(), a.Value["attributes"]!.ToJsonString(), a.Value["state"]!.GetValue<string>()));
    }

    private static string Canonical(Guid label, string kind, string geometry, string attributes, string state) =>
        $"{label}|{kind}|{JsonNode.Parse(geometry)!.ToJsonString()}|{JsonNode.Parse(attributes)!.ToJsonString()}|{state}";

    /// <summary>
    /// Connects to /hubs/annotations as <paramref name="user"/> and joins the image (or resumes from
    /// <paramref name="resumeFrom"/>). Ops that arrive before the snapshot is loaded wait in a queue; the switch to
    /// applying them directly happens under a lock, so none can slip past the queue and arrive out of order.
    /// </summary>
    public static Task<(HubClient Hub, ImageReplica Replica)> ConnectAsync(VisionLabelApp app, Guid imageId, string user, ImageReplica? replica = null, long? resumeFrom = null) =>
        ConnectAsync(() => HubClient.ConnectAsync(app.Server, app.HubPath("/hubs/annotations", user)), imageId, replica, resumeFrom);

    /// <summary>The same over a connection <paramref name="connect"/> opens (e.g. to a real server through a load balancer).</summary>
    public static async Task<(HubClient Hub, ImageReplica Replica)> ConnectAsync(Func<Task<HubClient>> connect, Guid imageId, ImageReplica? replica = null, long? resumeFrom = null)
    {
        var hub = await connect();
        replica ??= new ImageReplica();
        var pending = new List<JsonElement>();
        var handover = new Lock();
        bool ready = false;
        hub.OnMessage = (target, args) =>
        {
            if (target != "Applied") return;
            lock (handover) { if (ready) replica.Apply(args[0]); else pending.Add(args[0]); }
        };
        if (resumeFrom is { } last)
        {
            var resume = await hub.CallAsync("Resume", imageId, last);
            if (resume.GetProperty("snapshot").ValueKind == JsonValueKind.Object) replica.Load(resume.GetProperty("snapshot"));
            foreach (var op in resume.GetProperty("ops").EnumerateArray()) replica.Apply(op);
        }
        else replica.Load(await hub.CallAsync("JoinImage", imageId));
        lock (handover)
        {
            foreach (var op in pending.OrderBy(p => p.GetProperty("seq").GetInt64())) replica.Apply(op);
            ready = true;
        }
        return (hub, replica);
    }
}
