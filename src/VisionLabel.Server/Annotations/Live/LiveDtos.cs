using System.Text.Json;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// A client's change to one annotation. Type "create" | "update" | "delete" (<see cref="OpType"/>). Changes (create, update) holds
/// only the properties being set: labelId, kind, geometry, attributes, state (and source on create).
/// </summary>
public sealed record SubmitOp(string ClientOpId, Guid ImageId, OpType Type, Guid AnnotationId, JsonElement? Changes = null) : Accounts.IImageScoped;

/// <summary>An op as the server applied it: its place in the image's order, its author, its normalised changes.</summary>
public sealed record AppliedOp(long Seq, string AuthorId, SubmitOp Op)
{
    public static AppliedOp From(AnnotationOp o) =>
        new(o.Seq, o.AuthorId, new SubmitOp(o.ClientOpId, o.ImageId, o.Type, o.AnnotationId, o.Type == OpType.Delete ? null : JsonDocument.Parse(o.Changes).RootElement));
}

public sealed record OpAck(string ClientOpId, long? Seq, string? Rejected = null);

public sealed record Participant(string ConnectionId, string UserId, string Name, string Color);

public sealed record ImageSnapshot(Guid ImageId, long Seq, IReadOnlyList<AnnotationDto> Annotations, IReadOnlyList<Participant> Participants, IReadOnlyList<CommentDto> Comments);

/// <summary>Ops after lastSeq, or (Snapshot set, Ops empty) when the client is too far behind to replay.</summary>
public sealed record ResumeResult(Guid ImageId, long Seq, IReadOnlyList<AppliedOp> Ops, ImageSnapshot? Snapshot);

public sealed record Presence(JsonElement? Cursor = null, JsonElement? Selection = null, string? Tool = null, Guid? Editing = null);

public sealed record PresenceChanged(Guid ImageId, Participant Participant, Presence Presence);

/// <summary>The properties an op may carry; unknown names are refused so client bugs surface.</summary>
internal sealed record AnnotationChanges(
    Guid? LabelId = null, AnnotationKind? Kind = null, JsonElement? Geometry = null, JsonElement? Attributes = null,
    AnnotationState? State = null, AnnotationSourceDto? Source = null);

/// <summary>Why an op was refused. Stage: the image's workflow stage does not let this person edit it (submitted, approved).</summary>
public enum RejectKind { None, NotFound, Invalid, Exists, Deleted, Conflict, Stage }

/// <summary>The result of one op: applied (possibly a duplicate of one applied before) or rejected with a reason.</summary>
public sealed record OpOutcome(AppliedOp? Applied, bool Duplicate, RejectKind Reject, string? Reason, string? Field = null, Annotation? Current = null)
{
    public static OpOutcome Rejected(RejectKind kind, string reason, string? field = null, Annotation? current = null) => new(null, false, kind, reason, field, current);
}
