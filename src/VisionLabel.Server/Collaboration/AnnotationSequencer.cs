using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Collaboration;

/// <summary>
/// Orders every change to an image's annotations (hub ops and REST writes alike): one at a time per image, each
/// given the next gapless sequence number, persisted with the new current state in one transaction, then
/// broadcast as Applied to everyone on the image, in sequence order. Conflicts resolve per property: an update
/// sets only the properties it names, so the last write in server order wins for each; an update or create
/// that meets a deleted annotation is rejected (delete wins); a resubmitted op (same author and clientOpId)
/// is acknowledged again without being applied twice.
/// </summary>
public sealed class AnnotationSequencer(IServiceScopeFactory scopes, IHubContext<AnnotationsHub> hub)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _gates = new();
    // Per image, touched only under its gate: the last seq this process wrote (null: read it from the database).
    private readonly ConcurrentDictionary<Guid, long> _lastSeq = new();
    // What ops need of an image (its size and project never change), and whether its status may still move to in-progress.
    private readonly ConcurrentDictionary<Guid, ImageInfo> _images = new();

    private sealed record ImageInfo(Guid Id, Guid ProjectId, int Width, int Height)
    {
        public bool StatusSettled { get; set; }
    }

    /// <summary>Called when an image's status is set directly (review), so the next human edit re-checks it.</summary>
    public void StatusChanged(Guid imageId)
    {
        if (_images.TryGetValue(imageId, out var info)) info.StatusSettled = false;
    }

    public static string ImageGroup(Guid imageId) => $"annotations:{imageId}";

    /// <param name="expectedVersion">REST's optimistic check: reject with Conflict unless the annotation is at this version.</param>
    public async Task<OpOutcome> ApplyAsync(SubmitOp op, string author, int? expectedVersion = null, CancellationToken ct = default)
    {
        var gate = _gates.GetOrAdd(op.ImageId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            OpOutcome outcome;
            try { outcome = await ApplyLockedAsync(db, op, author, expectedVersion, null, null); }
            catch
            {
                _lastSeq.TryRemove(op.ImageId, out _); // e.g. another process took the seq, or the image is gone: re-read next time
                _images.TryRemove(op.ImageId, out _);
                throw;
            }
            // Inside the gate, so every watcher receives the image's ops in sequence order.
            if (outcome.Applied is { } applied && !outcome.Duplicate)
                await hub.Clients.Group(ImageGroup(op.ImageId)).SendAsync("Applied", applied, CancellationToken.None);
            return outcome;
        }
        finally { gate.Release(); }
    }

    /// <summary>Runs <paramref name="read"/> while no op can be applied to the image (for exact snapshots).</summary>
    public async Task<T> ReadExclusiveAsync<T>(Guid imageId, Func<Task<T>> read)
    {
        var gate = _gates.GetOrAdd(imageId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync();
        try { return await read(); }
        finally { gate.Release(); }
    }

    public static async Task<long> CurrentSeqAsync(VisionLabelDb db, Guid imageId, CancellationToken ct = default) =>
        await db.AnnotationOps.Where(o => o.ImageId == imageId).MaxAsync(o => (long?)o.Seq, ct) ?? 0;

    public static AppliedOp ToApplied(AnnotationOp o) =>
        new(o.Seq, o.AuthorId, new SubmitOp(o.ClientOpId, o.ImageId, o.Type, o.AnnotationId, o.Type == "delete" ? null : JsonDocument.Parse(o.Changes).RootElement));

    /// <summary>Reverts the user's latest op on the image that is not yet undone (as a new op), or says there is none.</summary>
    public Task<OpOutcome> UndoAsync(Guid imageId, string author, CancellationToken ct = default) => UndoRedoAsync(imageId, author, redo: false, ct);

    /// <summary>Re-applies what the user's latest undo reverted, unless they made a new change since.</summary>
    public Task<OpOutcome> RedoAsync(Guid imageId, string author, CancellationToken ct = default) => UndoRedoAsync(imageId, author, redo: true, ct);

    private async Task<OpOutcome> UndoRedoAsync(Guid imageId, string author, bool redo, CancellationToken ct)
    {
        var gate = _gates.GetOrAdd(imageId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            // Rebuild the user's stacks from their own ops: a new change pushes on undo and clears redo; an undo
            // moves its target to redo; a redo moves the undo back.
            var mine = await db.AnnotationOps.AsNoTracking().Where(o => o.ImageId == imageId && o.AuthorId == author).OrderBy(o => o.Seq).ToListAsync(ct);
            var undo = new Stack<AnnotationOp>();
            var redoStack = new Stack<AnnotationOp>();
            foreach (var o in mine)
            {
                if (o.UndoOf is not null) { if (undo.Count > 0) undo.Pop(); redoStack.Push(o); }
                else if (o.RedoOf is not null) { if (redoStack.Count > 0) redoStack.Pop(); undo.Push(o); }
                else { undo.Push(o); redoStack.Clear(); }
            }
            var target = redo ? (redoStack.Count > 0 ? redoStack.Peek() : null) : (undo.Count > 0 ? undo.Peek() : null);
            if (target?.Inverse is null) return OpOutcome.Rejected(RejectKind.Invalid, redo ? "nothing to redo" : "nothing to undo");

            var inverse = JsonDocument.Parse(target.Inverse).RootElement;
            long next = await CurrentSeqAsync(db, imageId) + 1;
            var op = new SubmitOp($"{(redo ? "redo" : "undo")}-{target.Seq}-{next}", imageId, inverse.GetProperty("type").GetString()!, target.AnnotationId,
                inverse.TryGetProperty("changes", out var changes) ? changes.Clone() : null);
            var outcome = await ApplyLockedAsync(db, op, author, null, redo ? null : target.Seq, redo ? target.Seq : null);
            if (outcome.Applied is { } applied)
                await hub.Clients.Group(ImageGroup(imageId)).SendAsync("Applied", applied, CancellationToken.None);
            else outcome = outcome with { Reason = $"cannot {(redo ? "redo" : "undo")}: {outcome.Reason}" };
            return outcome;
        }
        finally { gate.Release(); }
    }

    private async Task<OpOutcome> ApplyLockedAsync(VisionLabelDb db, SubmitOp op, string author, int? expectedVersion, long? undoOf, long? redoOf)
    {
        if (string.IsNullOrWhiteSpace(op.ClientOpId) || op.ClientOpId.Length > 100)
            return OpOutcome.Rejected(RejectKind.Invalid, "clientOpId is required (at most 100 characters)", "clientOpId");
        // A resubmitted op is found by looking for its earlier copy, but only when this attempt is refused or its
        // insert breaks the (image, author, clientOpId) unique index: a query saved on every op in the common path,
        // which runs while the image's gate is held.
        OpOutcome outcome;
        try { outcome = await ApplyNewAsync(db, op, author, expectedVersion, undoOf, redoOf); }
        catch (DbUpdateException)
        {
            if (await EarlierAsync(db, op, author) is { } duplicate) return duplicate;
            throw;
        }
        if (outcome.Applied is null && await EarlierAsync(db, op, author) is { } earlier) return earlier;
        return outcome;
    }

    private static async Task<OpOutcome?> EarlierAsync(VisionLabelDb db, SubmitOp op, string author) =>
        await db.AnnotationOps.AsNoTracking().FirstOrDefaultAsync(o => o.ImageId == op.ImageId && o.AuthorId == author && o.ClientOpId == op.ClientOpId) is { } earlier
            ? new OpOutcome(ToApplied(earlier), Duplicate: true, RejectKind.None, null)
            : null;

    private async Task<OpOutcome> ApplyNewAsync(VisionLabelDb db, SubmitOp op, string author, int? expectedVersion, long? undoOf, long? redoOf)
    {
        bool replaying = undoOf is not null || redoOf is not null; // may bring back an annotation this user's undo deleted
        if (!_images.TryGetValue(op.ImageId, out var image))
        {
            var row = await db.Images.AsNoTracking().Where(i => i.Id == op.ImageId).Select(i => new { i.ProjectId, i.Width, i.Height }).FirstOrDefaultAsync();
            if (row is null) return OpOutcome.Rejected(RejectKind.NotFound, $"no image has id {op.ImageId}");
            image = _images[op.ImageId] = new ImageInfo(op.ImageId, row.ProjectId, row.Width, row.Height);
        }

        AnnotationChanges changes;
        try { changes = op.Changes is { ValueKind: JsonValueKind.Object } c ? c.Deserialize<AnnotationChanges>(Json)! : new AnnotationChanges(); }
        catch (JsonException e) { return OpOutcome.Rejected(RejectKind.Invalid, "changes are not valid: " + e.Message, "changes"); }

        var now = DateTime.UtcNow;
        var normalized = new JsonObject();
        var inverse = new JsonObject();
        var annotation = await db.Annotations.FirstOrDefaultAsync(a => a.Id == op.AnnotationId && a.ImageId == op.ImageId);
        bool wasDeleted() => db.AnnotationOps.Any(o => o.ImageId == op.ImageId && o.AnnotationId == op.AnnotationId && o.Type == "delete");

        switch (op.Type)
        {
            case "create":
            {
                if (annotation is not null || await db.Annotations.AnyAsync(a => a.Id == op.AnnotationId))
                    return OpOutcome.Rejected(RejectKind.Exists, $"an annotation with id {op.AnnotationId} already exists; update it or create with a new id");
                if (!replaying && wasDeleted()) return OpOutcome.Rejected(RejectKind.Deleted, $"annotation {op.AnnotationId} was deleted; a create cannot bring it back");
                if (changes.LabelId is not { } labelId || changes.Kind is not { } kind || changes.Geometry is not { } geometry)
                    return OpOutcome.Rejected(RejectKind.Invalid, "a create needs labelId, kind and geometry", "changes");
                if (await LabelProblem(db, image, labelId) is { } labelProblem) return labelProblem;
                var g = AnnotationGeometry.Normalize(kind, geometry, image.Width, image.Height);
                if (g.Error is not null) return OpOutcome.Rejected(RejectKind.Invalid, g.Error, "geometry");
                if (AttributesJson(changes.Attributes) is not { } attributes) return OpOutcome.Rejected(RejectKind.Invalid, "attributes must be a JSON object", "attributes");
                var source = changes.Source ?? new AnnotationSourceDto(AnnotationSourceType.Human);
                if (source.Type == AnnotationSourceType.Model && string.IsNullOrWhiteSpace(source.ModelId))
                    return OpOutcome.Rejected(RejectKind.Invalid, "a model-made annotation names its model", "source.modelId");
                if (source.Score is { } score && (!double.IsFinite(score) || score < 0 || score > 1))
                    return OpOutcome.Rejected(RejectKind.Invalid, "score must be between 0 and 1", "source.score");
                annotation = new Annotation
                {
                    Id = op.AnnotationId, ImageId = image.Id, LabelId = labelId, Kind = kind, Geometry = g.Json!, Attributes = attributes,
                    Source = source.Type, ModelId = source.Type == AnnotationSourceType.Model ? source.ModelId : null, Score = source.Score,
                    State = changes.State ?? (source.Type == AnnotationSourceType.Human ? AnnotationState.Accepted : AnnotationState.Proposed),
                    Version = 1, CreatedBy = author, CreatedAt = now, UpdatedBy = author, UpdatedAt = now,
                };
                db.Annotations.Add(annotation);
                normalized["labelId"] = labelId;
                normalized["kind"] = Name(kind);
                normalized["geometry"] = JsonNode.Parse(annotation.Geometry);
                normalized["attributes"] = JsonNode.Parse(annotation.Attributes);
                normalized["state"] = Name(annotation.State);
                normalized["source"] = JsonSerializer.SerializeToNode(new AnnotationSourceDto(annotation.Source, annotation.ModelId, annotation.Score), Json);
                if (source.Type == AnnotationSourceType.Human) await MarkInProgress(db, image, now);
                inverse["type"] = "delete";
                break;
            }
            case "update":
            {
                if (annotation is null)
                    return OpOutcome.Rejected(RejectKind.Deleted, wasDeleted() ? $"annotation {op.AnnotationId} was deleted" : $"annotation {op.AnnotationId} does not exist on this image");
                if (expectedVersion is { } v && v != annotation.Version) return OpOutcome.Rejected(RejectKind.Conflict, "version moved", current: annotation);
                var previous = new JsonObject();
                if (changes.LabelId is { } labelId)
                {
                    if (await LabelProblem(db, image, labelId) is { } labelProblem) return labelProblem;
                    previous["labelId"] = annotation.LabelId;
                    annotation.LabelId = labelId;
                    normalized["labelId"] = labelId;
                }
                if (changes.Kind is { } kind && kind != annotation.Kind && changes.Geometry is null)
                    return OpOutcome.Rejected(RejectKind.Invalid, "changing the kind needs a geometry of the new kind", "geometry");
                if (changes.Geometry is { } geometry)
                {
                    var g = AnnotationGeometry.Normalize(changes.Kind ?? annotation.Kind, geometry, image.Width, image.Height);
                    if (g.Error is not null) return OpOutcome.Rejected(RejectKind.Invalid, g.Error, "geometry");
                    previous["kind"] = Name(annotation.Kind);
                    previous["geometry"] = JsonNode.Parse(annotation.Geometry);
                    annotation.Kind = changes.Kind ?? annotation.Kind;
                    annotation.Geometry = g.Json!;
                    normalized["kind"] = Name(annotation.Kind);
                    normalized["geometry"] = JsonNode.Parse(annotation.Geometry);
                }
                if (changes.Attributes is not null)
                {
                    if (AttributesJson(changes.Attributes) is not { } attributes) return OpOutcome.Rejected(RejectKind.Invalid, "attributes must be a JSON object", "attributes");
                    previous["attributes"] = JsonNode.Parse(annotation.Attributes);
                    annotation.Attributes = attributes;
                    normalized["attributes"] = JsonNode.Parse(attributes);
                }
                if (changes.State is { } state)
                {
                    previous["state"] = Name(annotation.State);
                    annotation.State = state;
                    normalized["state"] = Name(state);
                }
                if (changes.Source is not null) return OpOutcome.Rejected(RejectKind.Invalid, "the source of an annotation cannot change", "source");
                if (normalized.Count == 0) return OpOutcome.Rejected(RejectKind.Invalid, "an update sets at least one of labelId, geometry, attributes, state", "changes");
                annotation.Version++;
                annotation.UpdatedBy = author;
                annotation.UpdatedAt = now;
                await MarkInProgress(db, image, now);
                inverse["type"] = "update";
                inverse["changes"] = previous;
                break;
            }
            case "delete":
            {
                if (annotation is null)
                    return OpOutcome.Rejected(RejectKind.Deleted, wasDeleted() ? $"annotation {op.AnnotationId} was already deleted" : $"annotation {op.AnnotationId} does not exist on this image");
                if (expectedVersion is { } v && v != annotation.Version) return OpOutcome.Rejected(RejectKind.Conflict, "version moved", current: annotation);
                db.Annotations.Remove(annotation);
                inverse["type"] = "create";
                inverse["changes"] = new JsonObject
                {
                    ["labelId"] = annotation.LabelId, ["kind"] = Name(annotation.Kind), ["geometry"] = JsonNode.Parse(annotation.Geometry),
                    ["attributes"] = JsonNode.Parse(annotation.Attributes), ["state"] = Name(annotation.State),
                    ["source"] = JsonSerializer.SerializeToNode(new AnnotationSourceDto(annotation.Source, annotation.ModelId, annotation.Score), Json),
                };
                break;
            }
            default:
                return OpOutcome.Rejected(RejectKind.Invalid, $"unknown op type '{op.Type}'; use create, update or delete", "type");
        }

        long seq = (_lastSeq.TryGetValue(op.ImageId, out var last) ? last : await CurrentSeqAsync(db, op.ImageId)) + 1;
        var record = new AnnotationOp
        {
            ImageId = op.ImageId, Seq = seq, ClientOpId = op.ClientOpId, AuthorId = author,
            Type = op.Type, AnnotationId = op.AnnotationId, Changes = normalized.ToJsonString(), AppliedAt = now,
            Inverse = inverse.ToJsonString(), UndoOf = undoOf, RedoOf = redoOf,
        };
        db.AnnotationOps.Add(record);
        await db.SaveChangesAsync(); // the op and the new current state in one transaction; the (image, seq) key guards the order
        _lastSeq[op.ImageId] = seq;
        return new OpOutcome(ToApplied(record), Duplicate: false, RejectKind.None, null, Current: op.Type == "delete" ? null : annotation);
    }

    private static string Name<T>(T value) where T : struct, Enum => JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    private static async Task<OpOutcome?> LabelProblem(VisionLabelDb db, ImageInfo image, Guid labelId) =>
        await db.Labels.AnyAsync(l => l.Id == labelId && l.ProjectId == image.ProjectId)
            ? null
            : OpOutcome.Rejected(RejectKind.Invalid, $"Label {labelId} is not a label of this image's project; list them at /api/projects/{image.ProjectId}/labels.", "labelId");

    private static string? AttributesJson(JsonElement? attributes) => attributes switch
    {
        null => "{}",
        { ValueKind: JsonValueKind.Object } a => a.GetRawText(),
        { ValueKind: JsonValueKind.Null } => "{}",
        _ => null,
    };

    /// <summary>A person touching an untouched or pre-labeled image has started work on it. Checked once, then remembered.</summary>
    private static async Task MarkInProgress(VisionLabelDb db, ImageInfo image, DateTime now)
    {
        if (image.StatusSettled) return;
        await db.Images.Where(i => i.Id == image.Id && (i.Status == ImageStatus.New || i.Status == ImageStatus.Prelabeled))
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, ImageStatus.InProgress).SetProperty(i => i.UpdatedAt, now));
        image.StatusSettled = true;
    }
}
