using System.Text.Json;
using System.Text.Json.Nodes;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>What ops need of an image: its size and project never change after upload.</summary>
internal sealed record ImageInfo(Guid Id, Guid ProjectId, int Width, int Height)
{
    /// <summary>The image's workflow status as of the last read under its lock (edits are refused in some: Work/WorkflowRules).</summary>
    public ImageStatus Status { get; set; }

    /// <summary>True once a person's edit has moved the status as far as edits move it (checked once, then remembered).</summary>
    public bool StatusSettled { get; set; }
}

/// <summary>
/// The rows a set of ops touches, loaded once before they are decided: annotations by id (tracked; null when there
/// is none on this image), ids taken by other images, ids deleted on this image before, the project's label ids.
/// Decisions update it, so later ops of a batch see earlier ones.
/// </summary>
internal sealed class OpWorkingSet
{
    public required ImageInfo Image { get; init; }
    public Dictionary<Guid, Annotation?> Rows { get; } = [];
    public HashSet<Guid> UsedElsewhere { get; } = [];
    public HashSet<Guid> Deleted { get; } = [];
    /// <summary>The project's labels (name and attribute definitions), loaded when an op names a label or sets attributes.</summary>
    public Dictionary<Guid, LabelFacts>? Labels { get; set; }
}

/// <summary>What deciding an op needs of a label.</summary>
internal sealed record LabelFacts(string Name, IReadOnlyList<LabelAttribute> Attributes);

internal enum OpEffect { Created, Updated, Deleted }

/// <summary>A decided op: what it does to which row, its normalised changes (what the op log and Applied carry) and its inverse.</summary>
internal sealed record OpDecision(OpEffect Effect, Annotation Row, JsonObject Changes, JsonObject Inverse);

/// <summary>
/// The annotation aggregate: validates an op against the current state of its image, applies it to the row, and
/// works out the op that would undo it. Per-property conflict rule: an update sets only the properties it names,
/// so the last writer in server order wins per property; an op that meets a deleted annotation is refused (delete
/// wins), except an undo or redo, which may bring back what its own author deleted.
/// </summary>
internal static class AnnotationAggregate
{
    public static OpDecision? Decide(OpWorkingSet set, SubmitOp op, string author, int? expectedVersion, bool replaying, DateTime now, out OpOutcome rejected)
    {
        rejected = null!;
        if (op.Changes is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined) })
            return Reject(out rejected, RejectKind.Invalid, "changes must be a JSON object", "changes");
        AnnotationChanges changes;
        try { changes = op.Changes is { ValueKind: JsonValueKind.Object } c ? c.Deserialize<AnnotationChanges>(AnnotationSequencer.Json)! : new AnnotationChanges(); }
        catch (JsonException e) { rejected = OpOutcome.Rejected(RejectKind.Invalid, ChangesProblem(e), "changes"); return null; }

        var image = set.Image;
        set.Rows.TryGetValue(op.AnnotationId, out var row);
        switch (op.Type)
        {
            case OpType.Create:
            {
                if (row is not null || set.UsedElsewhere.Contains(op.AnnotationId))
                    return Reject(out rejected, RejectKind.Exists, $"an annotation with id {op.AnnotationId} already exists; update it or create with a new id");
                if (!replaying && set.Deleted.Contains(op.AnnotationId))
                    return Reject(out rejected, RejectKind.Deleted, $"annotation {op.AnnotationId} was deleted; a create cannot bring it back");
                if (changes.LabelId is not { } labelId || changes.Kind is not { } kind || changes.Geometry is not { } geometry)
                    return Reject(out rejected, RejectKind.Invalid, "a create needs labelId, kind and geometry", "changes");
                if (LabelProblem(set, labelId) is { } labelProblem) { rejected = labelProblem; return null; }
                var g = Geometry.Parse(kind, geometry, image.Width, image.Height);
                if (g.Error is not null) return Reject(out rejected, RejectKind.Invalid, g.Error, "geometry");
                if (AttributesJson(changes.Attributes) is not { } attributes) return Reject(out rejected, RejectKind.Invalid, "attributes must be a JSON object", "attributes");
                // An undo or redo brings back what was there: it is not checked against definitions changed since.
                if (!replaying && ValuesProblem(set, labelId, attributes, null) is { } valuesProblem) { rejected = valuesProblem; return null; }
                var source = changes.Source ?? new AnnotationSourceDto(AnnotationSourceType.Human);
                if (source.Type == AnnotationSourceType.Model && string.IsNullOrWhiteSpace(source.ModelId))
                    return Reject(out rejected, RejectKind.Invalid, "a model-made annotation names its model", "source.modelId");
                if (source.ModelId is { Length: > 200 }) return Reject(out rejected, RejectKind.Invalid, "source.modelId is at most 200 characters", "source.modelId");
                if (source.Score is { } score && (!double.IsFinite(score) || score < 0 || score > 1))
                    return Reject(out rejected, RejectKind.Invalid, "score must be between 0 and 1", "source.score");
                row = new Annotation
                {
                    Id = op.AnnotationId, ImageId = image.Id, LabelId = labelId, Kind = kind, Geometry = g.Value!.ToJsonString(), Attributes = attributes,
                    Source = source.Type, ModelId = source.Type == AnnotationSourceType.Model ? source.ModelId : null, Score = source.Score,
                    State = changes.State ?? (source.Type == AnnotationSourceType.Human ? AnnotationState.Accepted : AnnotationState.Proposed),
                    Version = 1, CreatedBy = author, CreatedAt = now, UpdatedBy = author, UpdatedAt = now,
                };
                set.Rows[row.Id] = row;
                return new OpDecision(OpEffect.Created, row, FullState(row), new JsonObject { ["type"] = "delete" });
            }
            case OpType.Update:
            {
                if (row is null)
                    return Reject(out rejected, RejectKind.Deleted, set.Deleted.Contains(op.AnnotationId) ? $"annotation {op.AnnotationId} was deleted" : $"annotation {op.AnnotationId} does not exist on this image");
                if (expectedVersion is { } v && v != row.Version) { rejected = OpOutcome.Rejected(RejectKind.Conflict, "version moved", current: row); return null; }
                if (changes.Source is not null) return Reject(out rejected, RejectKind.Invalid, "the source of an annotation cannot change", "source");
                if (changes.Kind is { } newKind && newKind != row.Kind && changes.Geometry is null)
                    return Reject(out rejected, RejectKind.Invalid, "changing the kind needs a geometry of the new kind", "geometry");
                // Everything is checked before anything is changed: a refused update leaves the row as it was.
                if (changes.LabelId is { } labelId && LabelProblem(set, labelId) is { } labelProblem) { rejected = labelProblem; return null; }
                Geometry? g = null;
                if (changes.Geometry is { } geometry)
                {
                    var parsed = Geometry.Parse(changes.Kind ?? row.Kind, geometry, image.Width, image.Height);
                    if (parsed.Error is not null) return Reject(out rejected, RejectKind.Invalid, parsed.Error, "geometry");
                    g = parsed.Value;
                }
                string? attributes = null;
                if (changes.Attributes is not null && (attributes = AttributesJson(changes.Attributes)) is null)
                    return Reject(out rejected, RejectKind.Invalid, "attributes must be a JSON object", "attributes");
                // The values must fit the label they end up under: a relabel is checked against the new label's definitions
                // (every value); an update of the values only checks the ones it changes; an undo or redo is not checked.
                bool relabel = changes.LabelId is { } newLabel && newLabel != row.LabelId;
                if (!replaying && (relabel || attributes is not null) &&
                    ValuesProblem(set, changes.LabelId ?? row.LabelId, attributes ?? row.Attributes, relabel ? null : row.Attributes) is { } valuesProblem)
                { rejected = valuesProblem; return null; }

                var normalized = new JsonObject();
                var previous = new JsonObject();
                if (changes.LabelId is { } label)
                {
                    previous["labelId"] = row.LabelId;
                    row.LabelId = label;
                    normalized["labelId"] = label;
                }
                if (g is not null)
                {
                    string json = g.ToJsonString();
                    previous["kind"] = ApiEnum.Name(row.Kind);
                    previous["geometry"] = JsonNode.Parse(row.Geometry);
                    row.Kind = changes.Kind ?? row.Kind;
                    row.Geometry = json;
                    normalized["kind"] = ApiEnum.Name(row.Kind);
                    normalized["geometry"] = g.ToJson();
                }
                if (attributes is not null)
                {
                    previous["attributes"] = JsonNode.Parse(row.Attributes);
                    row.Attributes = attributes;
                    normalized["attributes"] = JsonNode.Parse(attributes);
                }
                if (changes.State is { } state)
                {
                    previous["state"] = ApiEnum.Name(row.State);
                    row.State = state;
                    normalized["state"] = ApiEnum.Name(state);
                }
                if (normalized.Count == 0) return Reject(out rejected, RejectKind.Invalid, "an update sets at least one of labelId, geometry, attributes, state", "changes");
                row.Version++;
                row.UpdatedBy = author;
                row.UpdatedAt = now;
                return new OpDecision(OpEffect.Updated, row, normalized, new JsonObject { ["type"] = "update", ["changes"] = previous });
            }
            case OpType.Delete:
            {
                if (row is null)
                    return Reject(out rejected, RejectKind.Deleted, set.Deleted.Contains(op.AnnotationId) ? $"annotation {op.AnnotationId} was already deleted" : $"annotation {op.AnnotationId} does not exist on this image");
                if (expectedVersion is { } v && v != row.Version) { rejected = OpOutcome.Rejected(RejectKind.Conflict, "version moved", current: row); return null; }
                set.Rows[row.Id] = null;
                set.Deleted.Add(row.Id);
                return new OpDecision(OpEffect.Deleted, row, new JsonObject(), new JsonObject { ["type"] = "create", ["changes"] = FullState(row) });
            }
            default:
                return Reject(out rejected, RejectKind.Invalid, "unknown op type; use create, update or delete", "type");
        }
    }

    /// <summary>Every property of a row, as a create carries them.</summary>
    private static JsonObject FullState(Annotation a) => new()
    {
        ["labelId"] = a.LabelId, ["kind"] = ApiEnum.Name(a.Kind), ["geometry"] = JsonNode.Parse(a.Geometry),
        ["attributes"] = JsonNode.Parse(a.Attributes), ["state"] = ApiEnum.Name(a.State),
        ["source"] = JsonSerializer.SerializeToNode(new AnnotationSourceDto(a.Source, a.ModelId, a.Score), AnnotationSequencer.Json),
    };

    private static OpDecision? Reject(out OpOutcome rejected, RejectKind kind, string reason, string? field = null)
    {
        rejected = OpOutcome.Rejected(kind, reason, field);
        return null;
    }

    private static OpOutcome? LabelProblem(OpWorkingSet set, Guid labelId) =>
        set.Labels!.ContainsKey(labelId)
            ? null
            : OpOutcome.Rejected(RejectKind.Invalid, $"label {labelId} is not a label of this image's project; list them at /api/projects/{set.Image.ProjectId}/labels", "labelId");

    private static OpOutcome? ValuesProblem(OpWorkingSet set, Guid labelId, string attributes, string? before)
    {
        if (set.Labels!.GetValueOrDefault(labelId) is not { Attributes.Count: > 0 } label || attributes.Length <= 2) return null;
        using var doc = JsonDocument.Parse(attributes);
        using var old = before is { Length: > 2 } ? JsonDocument.Parse(before) : null;
        return AttributeValues.Problem(label.Attributes, doc.RootElement, label.Name, old?.RootElement) is { } p ? OpOutcome.Rejected(RejectKind.Invalid, p.Problem, p.Field) : null;
    }

    private static string? AttributesJson(JsonElement? attributes) => attributes switch
    {
        null => "{}",
        { ValueKind: JsonValueKind.Object } a => a.GetRawText(),
        { ValueKind: JsonValueKind.Null } => "{}",
        _ => null,
    };

    /// <summary>Names the property a bad value was given for, and what it should be.</summary>
    internal static string ChangesProblem(JsonException e)
    {
        string path = e.Path is { Length: > 1 } p ? p.TrimStart('$', '.') : "";
        string what = e.Message.Split(" Path:")[0];
        if (e.InnerException is InvalidOperationException or FormatException) what = e.InnerException.Message;
        return path.Length > 0 ? $"changes.{path}: {Explain(path, what)}" : $"changes: {what}";
    }

    private static string Explain(string path, string message) => path switch
    {
        "kind" => $"use one of {ApiEnum.Names<AnnotationKind>()}",
        "state" => $"use one of {ApiEnum.Names<AnnotationState>()}",
        "source.type" => $"use one of {ApiEnum.Names<AnnotationSourceType>()}",
        "labelId" => "must be a label id (a GUID string)",
        _ when message.Contains("could not be mapped") => "is not a property of an annotation; use labelId, kind, geometry, attributes, state, source",
        _ => message,
    };
}
