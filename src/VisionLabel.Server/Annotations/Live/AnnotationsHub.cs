using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// Live co-editing of one image by several people: /hubs/annotations, JSON protocol. The message shapes are
/// documented in docs/realtime-protocol.md. Callers are signed in (the cookie, or a token as ?access_token= since
/// browsers cannot set headers on WebSockets), and every method declares the project role it needs (HubAccessFilter).
/// </summary>
public sealed class AnnotationsHub(AnnotationSequencer sequencer, AnnotationReads reads, PresenceRegistry presence, IParticipantDirectory participants,
    PresenceThrottle presenceThrottle, ReviewService review, WorkTransitions work, VisionLabelDb db, IServiceProvider services, Operations.ServerMetrics metrics) : Hub
{
    /// <summary>Largest op accepted (its changes as JSON text): a 10,000-point polygon is about 200 KB.</summary>
    public const int MaxOpBytes = 1 << 20;
    /// <summary>Largest hub message the server reads. Above <see cref="MaxOpBytes"/> and below this, an op is refused with
    /// a reason and the connection stays up; a message above this closes the connection (SignalR's transport limit).</summary>
    public const int MaxMessageBytes = 16 << 20;
    private const int MaxPresenceBytes = 16 << 10;

    private string User => Context.User!.Identity!.Name!; // the signed-in account, never a name the client sends
    private ProjectRole Role => Context.Access().Role ?? ProjectRole.Viewer; // set by HubAccessFilter for the method's project

    [HubAccess(AccessLevel.Project, ProjectRole.Viewer)]
    public async Task<ImageSnapshot> JoinImage(Guid imageId)
    {
        await RequireImage(imageId);
        // Join the group before reading, so no op applied after the snapshot's seq can be missed.
        await Groups.AddToGroupAsync(Context.ConnectionId, OpBroadcaster.ImageGroup(imageId));
        var participant = presence.Join(imageId, Context.ConnectionId, User);
        await participants.JoinedAsync(imageId, participant);
        var snapshot = await reads.SnapshotAsync(imageId);
        await Clients.OthersInGroup(OpBroadcaster.ImageGroup(imageId)).SendAsync("ParticipantJoined", imageId, participant);
        return snapshot;
    }

    [HubAccess(AccessLevel.SignedIn)]
    public async Task LeaveImage(Guid imageId)
    {
        await Groups.RemoveFromGroupAsync(Context.ConnectionId, OpBroadcaster.ImageGroup(imageId));
        await participants.LeftAsync(imageId, Context.ConnectionId);
        if (presence.Leave(imageId, Context.ConnectionId) is { } p)
            await Clients.Group(OpBroadcaster.ImageGroup(imageId)).SendAsync("ParticipantLeft", imageId, p);
    }

    /// <summary>Applies an op; the reply acknowledges it with its sequence number, or says why it was refused.</summary>
    [HubAccess(AccessLevel.Project, ProjectRole.Annotator, Writes = true)]
    public async Task<OpAck> Submit(SubmitOp op)
    {
        if (op is null) throw new HubException("Submit(op): op is required, an object {clientOpId, imageId, type, annotationId, changes}");
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        if (op.Changes is { } changes && RawBytes(changes) is var size && size > MaxOpBytes)
            return Refuse(op, $"the op's changes are {size:N0} bytes; at most {MaxOpBytes:N0} are accepted (simplify the polygon or send a mask)");
        var outcome = await sequencer.SubmitAsync(op, User, Role);
        metrics.OpAck.Record(System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds);
        if (outcome.Applied is { } applied) return new OpAck(op.ClientOpId, applied.Seq);
        return Refuse(op, outcome.Reason ?? "refused");
    }

    /// <summary>The ack is the one channel for a refusal (its author alone learns why; no separate message).</summary>
    private static OpAck Refuse(SubmitOp op, string reason) => new(op.ClientOpId, null, reason);

    /// <summary>Reverts the caller's own latest op on the image (as a new op everyone receives as Applied).</summary>
    [HubAccess(AccessLevel.Project, ProjectRole.Annotator, Writes = true)]
    public Task<OpAck> Undo(Guid imageId) => UndoRedo(imageId, redo: false);

    /// <summary>Re-applies the caller's latest undo, unless they changed something since.</summary>
    [HubAccess(AccessLevel.Project, ProjectRole.Annotator, Writes = true)]
    public Task<OpAck> Redo(Guid imageId) => UndoRedo(imageId, redo: true);

    private async Task<OpAck> UndoRedo(Guid imageId, bool redo)
    {
        var outcome = redo ? await sequencer.RedoAsync(imageId, User, Role) : await sequencer.UndoAsync(imageId, User, Role);
        return outcome.Applied is { } applied ? new OpAck(applied.Op.ClientOpId, applied.Seq) : new OpAck(redo ? "redo" : "undo", null, outcome.Reason);
    }

    // The workflow, as on REST (POST /api/images/{id}/submit …): the same rules and refusals (Annotations/Review/WorkflowRules).
    // Everyone on the image receives WorkChanged (and ImageStatusChanged when the status moved). A refusal is a
    // HubException "STATUS Method: Title: detail" (the REST ProblemDetails' status, title and detail; the method's name
    // tells it apart from the access rule's own "STATUS Title: detail").

    /// <summary>Submits the image for review and releases the caller's lease.</summary>
    [HubAccess(AccessLevel.Project, ProjectRole.Annotator, Writes = true)]
    public Task<WorkStateDto> SubmitImage(Guid imageId) => Work(nameof(SubmitImage), work.TransitionAsync(imageId, WorkAction.Submit, Actor));

    [HubAccess(AccessLevel.Project, ProjectRole.Reviewer, Writes = true)]
    public Task<WorkStateDto> ApproveImage(Guid imageId) => Work(nameof(ApproveImage), work.TransitionAsync(imageId, WorkAction.Approve, Actor));

    /// <summary>Rejects with one of the project's reasons and an optional comment for the annotator.</summary>
    [HubAccess(AccessLevel.Project, ProjectRole.Reviewer, Writes = true)]
    public Task<WorkStateDto> RejectImage(Guid imageId, RejectRequest request) =>
        Work(nameof(RejectImage), work.TransitionAsync(imageId, WorkAction.Reject, Actor, request?.Reason, request?.Comment));

    [HubAccess(AccessLevel.Project, ProjectRole.Owner, Writes = true)]
    public Task<WorkStateDto> ReopenImage(Guid imageId) => Work(nameof(ReopenImage), work.TransitionAsync(imageId, WorkAction.Reopen, Actor));

    /// <summary>The editor's heartbeat while it is open: extends the caller's lease by the project's lease time.</summary>
    [HubAccess(AccessLevel.Project, ProjectRole.Annotator, Writes = true)]
    public Task<WorkStateDto> RenewLease(Guid imageId) => Work(nameof(RenewLease), work.RenewLeaseAsync(imageId, Actor));

    [HubAccess(AccessLevel.Project, ProjectRole.Annotator, Writes = true)]
    public Task<WorkStateDto> ReleaseLease(Guid imageId) => Work(nameof(ReleaseLease), work.ReleaseLeaseAsync(imageId, Actor));

    /// <summary>The editor's activity (pointer, keys, ops; at most one report every few seconds while it lasts), and
    /// hidden = true when the page is hidden: active time is measured from when these arrive (docs/analytics.md).</summary>
    [HubAccess(AccessLevel.Project, ProjectRole.Annotator, Writes = true)]
    public async Task ReportActivity(Guid imageId, bool hidden)
    {
        // Resolved here (the invocation's scope), not in the constructor: every other method would build them for nothing.
        foreach (var observer in services.GetServices<IActivityObserver>()) await observer.ActivityAsync(imageId, User, hidden);
    }

    private Actor Actor => new(User, Role);

    private static async Task<WorkStateDto> Work(string method, Task<WorkOutcome> call)
    {
        var outcome = await call;
        return outcome.State ?? throw new HubException($"{outcome.Refusal!.StatusCode} {method}: {outcome.Refusal.Title}: {outcome.Refusal.Detail}");
    }

    [HubAccess(AccessLevel.Project, ProjectRole.Annotator, Writes = true)]
    public async Task<CommentDto> AddComment(Guid imageId, NewComment comment)
    {
        if (comment is null) throw new HubException("AddComment(imageId, comment): comment is required, an object {x, y, text}");
        var (dto, problem) = await review.AddCommentAsync(imageId, comment, User);
        return dto ?? throw new HubException($"AddComment: {problem}");
    }

    [HubAccess(AccessLevel.Project, ProjectRole.Annotator, Writes = true)]
    public async Task<CommentDto> ResolveComment(Guid imageId, Guid commentId, bool resolved) =>
        await review.ResolveCommentAsync(imageId, commentId, resolved) ?? throw new HubException($"ResolveComment: no comment {commentId} on image {imageId}");

    [HubAccess(AccessLevel.Project, ProjectRole.Viewer)]
    public async Task<ResumeResult> Resume(Guid imageId, long lastSeq)
    {
        await RequireImage(imageId);
        if (lastSeq < 0) throw new HubException("Resume(imageId, lastSeq): lastSeq is the last seq you applied, 0 or more");
        await Groups.AddToGroupAsync(Context.ConnectionId, OpBroadcaster.ImageGroup(imageId));
        var participant = presence.Join(imageId, Context.ConnectionId, User);
        await participants.JoinedAsync(imageId, participant);
        await Clients.OthersInGroup(OpBroadcaster.ImageGroup(imageId)).SendAsync("ParticipantJoined", imageId, participant); // back after a disconnect
        return await reads.ResumeAsync(imageId, lastSeq);
    }

    [HubAccess(AccessLevel.Project, ProjectRole.Viewer)]
    public async Task UpdatePresence(Guid imageId, Presence state)
    {
        if (state is null) throw new HubException("UpdatePresence(imageId, state): state is required, an object {cursor, selection, tool, editing}");
        if (presence.Find(imageId, Context.ConnectionId) is not { } participant) throw new HubException("UpdatePresence: join the image before sending presence");
        if ((state.Cursor is { } c ? RawBytes(c) : 0) + (state.Selection is { } s ? RawBytes(s) : 0) + (state.Tool?.Length ?? 0) > MaxPresenceBytes)
            throw new HubException($"UpdatePresence: state is over {MaxPresenceBytes:N0} bytes; send the cursor and the selected ids, not shapes");
        await presenceThrottle.PublishAsync(Context.ConnectionId, new PresenceChanged(imageId, participant, state));
    }

    public override Task OnConnectedAsync()
    {
        metrics.EditorsConnected.Add(1);
        return base.OnConnectedAsync();
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        metrics.EditorsConnected.Add(-1);
        presenceThrottle.Forget(Context.ConnectionId);
        foreach (var (imageId, participant) in presence.Disconnect(Context.ConnectionId))
        {
            await participants.LeftAsync(imageId, Context.ConnectionId);
            await Clients.Group(OpBroadcaster.ImageGroup(imageId)).SendAsync("ParticipantLeft", imageId, participant);
        }
        await base.OnDisconnectedAsync(exception);
    }

    /// <summary>The JSON's size as it arrived, without copying it into a string.</summary>
    private static int RawBytes(JsonElement json) => System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(json).Length;

    private async Task RequireImage(Guid imageId)
    {
        if (!await db.Images.IgnoreQueryFilters().AnyAsync(i => i.Id == imageId)) throw new HubException($"no image has id {imageId}");
    }
}
