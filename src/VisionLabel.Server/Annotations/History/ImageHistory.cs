using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// An image's history, read from its op log (docs/realtime-protocol.md, "History"): pages of ops as people read them,
/// and the state right after any op, replayed from the log. Read only: the log is the record, nothing here writes.
/// Private copies are reached too (IgnoreQueryFilters): who may read one is the access rule's business.
/// </summary>
public static class ImageHistory
{
    /// <summary>The image's project, or null when there is no such image (a private copy included).</summary>
    public static Task<Guid?> ProjectOfAsync(VisionLabelDb db, Guid imageId, CancellationToken ct) =>
        db.Images.IgnoreQueryFilters().Where(i => i.Id == imageId).Select(i => (Guid?)i.ProjectId).FirstOrDefaultAsync(ct);

    /// <summary>Up to <paramref name="limit"/> ops before <paramref name="before"/> (all when null), newest first.</summary>
    public static async Task<HistoryPage> PageAsync(VisionLabelDb db, Guid imageId, Guid projectId, long? before, int limit, CancellationToken ct)
    {
        var query = db.AnnotationOps.AsNoTracking().Where(o => o.ImageId == imageId);
        if (before is { } b) query = query.Where(o => o.Seq < b);
        // One more than asked says whether an older page exists without counting.
        var rows = await query.OrderByDescending(o => o.Seq).Take(limit + 1).ToListAsync(ct);
        bool more = rows.Count > limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        if (rows.Count == 0) return new HistoryPage([], null);
        rows.Reverse(); // oldest first: each op's label and kind follow from the ones before it

        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == projectId).ToDictionaryAsync(l => l.Id, l => l.Name, ct);
        var known = await SeedsAsync(db, imageId, rows, ct);
        var items = new List<HistoryItem>(rows.Count);
        foreach (var op in rows)
        {
            var changes = JsonNode.Parse(op.Changes) as JsonObject ?? [];
            var previous = (op.Inverse is null ? null : JsonNode.Parse(op.Inverse) as JsonObject)?["changes"] as JsonObject;
            known.TryGetValue(op.AnnotationId, out var was);
            var (label, kind) = op.Type switch
            {
                OpType.Create => (LabelOf(changes), KindOf(changes)),
                OpType.Update => (LabelOf(changes) ?? was.Label, KindOf(changes) ?? was.Kind),
                _ => (LabelOf(previous) ?? was.Label, KindOf(previous) ?? was.Kind), // a delete's inverse is the full state it removed
            };
            known[op.AnnotationId] = (label, kind);
            string Name(Guid? id) => id is { } g ? labels.GetValueOrDefault(g) ?? "(deleted label)" : "";
            string what = OpDescription.Describe(op.Type, changes, previous, op.UndoOf, op.RedoOf, kind is { } k ? ApiEnum.Name(k) : "", Name(label), Name);
            items.Add(new HistoryItem(op.Seq, op.AppliedAt, op.AuthorId, op.Type, op.AnnotationId, label, label is { } l ? labels.GetValueOrDefault(l) : null,
                kind, what, op.UndoOf, op.RedoOf));
        }
        items.Reverse();
        return new HistoryPage(items, more ? items[^1].Seq : null);
    }

    /// <summary>
    /// The label and kind, just before the page, of each annotation whose first op on the page is an update (a create or
    /// a delete carries them itself): its earlier ops folded in seq order, one query for the few annotations that need it.
    /// </summary>
    private static async Task<Dictionary<Guid, (Guid? Label, AnnotationKind? Kind)>> SeedsAsync(VisionLabelDb db, Guid imageId, List<AnnotationOp> page, CancellationToken ct)
    {
        var seeds = new Dictionary<Guid, (Guid? Label, AnnotationKind? Kind)>();
        var needed = page.GroupBy(o => o.AnnotationId).Where(g => g.First().Type == OpType.Update).Select(g => g.Key).ToList();
        if (needed.Count == 0) return seeds;
        long oldest = page[0].Seq;
        var earlier = db.AnnotationOps.AsNoTracking().Where(o => o.ImageId == imageId && o.Seq < oldest && needed.Contains(o.AnnotationId) && o.Type != OpType.Delete)
            .OrderBy(o => o.Seq).Select(o => new { o.AnnotationId, o.Changes }).AsAsyncEnumerable();
        await foreach (var op in earlier.WithCancellation(ct))
        {
            var changes = JsonNode.Parse(op.Changes) as JsonObject;
            seeds.TryGetValue(op.AnnotationId, out var was);
            seeds[op.AnnotationId] = (LabelOf(changes) ?? was.Label, KindOf(changes) ?? was.Kind);
        }
        return seeds;
    }

    private static Guid? LabelOf(JsonObject? o) => o?["labelId"] is JsonValue v && v.TryGetValue<string>(out var s) && Guid.TryParse(s, out var g) ? g : null;

    private static AnnotationKind? KindOf(JsonObject? o) =>
        o?["kind"] is JsonValue v && v.TryGetValue<string>(out var s) && ApiEnum.TryParse<AnnotationKind>(s, out var k) ? k : null;

    /// <summary>
    /// The image's annotations right after op <paramref name="seq"/>, replayed from the log: a create adds the full state
    /// it carries, an update sets the properties it names, a delete removes. Ops are streamed in seq order, only the
    /// columns replay needs and only up to seq. Null when the log has no op <paramref name="seq"/>.
    /// </summary>
    public static async Task<HistoryState?> StateAsync(VisionLabelDb db, Guid imageId, long seq, CancellationToken ct)
    {
        var head = await db.AnnotationOps.AsNoTracking().Where(o => o.ImageId == imageId && o.Seq == seq)
            .Select(o => new { o.AppliedAt, o.AuthorId }).FirstOrDefaultAsync(ct);
        if (head is null) return null;
        var state = new Dictionary<Guid, Replayed>();
        var ops = db.AnnotationOps.AsNoTracking().Where(o => o.ImageId == imageId && o.Seq <= seq).OrderBy(o => o.Seq)
            .Select(o => new { o.Seq, o.Type, o.AnnotationId, o.Changes }).AsAsyncEnumerable();
        await foreach (var op in ops.WithCancellation(ct))
        {
            if (op.Type == OpType.Delete) { state.Remove(op.AnnotationId); continue; }
            var c = JsonSerializer.Deserialize<AnnotationChanges>(op.Changes, AnnotationSequencer.Json)!;
            if (op.Type == OpType.Create)
            {
                state[op.AnnotationId] = new Replayed(op.Seq, c.LabelId ?? Guid.Empty, c.Kind ?? AnnotationKind.Box, Clone(c.Geometry), Clone(c.Attributes),
                    c.State ?? AnnotationState.Accepted, c.Source ?? new AnnotationSourceDto(AnnotationSourceType.Human));
                continue;
            }
            if (!state.TryGetValue(op.AnnotationId, out var row)) continue; // the log never updates what is not there; be safe
            state[op.AnnotationId] = row with
            {
                LabelId = c.LabelId ?? row.LabelId, Kind = c.Kind ?? row.Kind, Geometry = c.Geometry is { } g ? g.Clone() : row.Geometry,
                Attributes = c.Attributes is { } a ? a.Clone() : row.Attributes, State = c.State ?? row.State,
            };
        }
        var annotations = state.Select(p => (p.Value.Created, Annotation: new HistoricAnnotation(p.Key, p.Value.LabelId, p.Value.Kind, p.Value.Geometry,
            p.Value.Attributes, p.Value.State, p.Value.Source))).OrderBy(p => p.Created).Select(p => p.Annotation).ToList();
        return new HistoryState(seq, head.AppliedAt, head.AuthorId, annotations);
    }

    private static JsonElement Clone(JsonElement? e) => e is { ValueKind: not JsonValueKind.Null } v ? v.Clone() : JsonDocument.Parse("{}").RootElement;

    /// <summary>An annotation during replay; Created is the seq of the create that made it (the answer's order).</summary>
    private sealed record Replayed(long Created, Guid LabelId, AnnotationKind Kind, JsonElement Geometry, JsonElement Attributes, AnnotationState State, AnnotationSourceDto Source);
}
