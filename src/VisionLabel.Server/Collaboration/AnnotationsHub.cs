using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Collaboration;

/// <summary>
/// Live co-editing of one image by several people: /hubs/annotations, JSON protocol. The message shapes are
/// documented in docs/realtime-protocol.md. Users name themselves with the X-VisionLabel-User header or the
/// ?user= query parameter (browsers cannot set headers on WebSockets).
/// </summary>
public sealed class AnnotationsHub(AnnotationSequencer sequencer, PresenceRegistry presence, ReviewService review, VisionLabelDb db) : Hub
{
    /// <summary>How far behind Resume replays ops; beyond that it sends a fresh snapshot.</summary>
    public const int MaxReplay = 1000;
    private static readonly TimeSpan PresenceInterval = TimeSpan.FromMilliseconds(50);

    private string User => CurrentUser.Name(Context.GetHttpContext()!);

    public async Task<ImageSnapshot> JoinImage(Guid imageId)
    {
        if (!await db.Images.AnyAsync(i => i.Id == imageId)) throw new HubException($"no image has id {imageId}");
        // Join the group before reading, so no op applied after the snapshot's seq can be missed.
        await Groups.AddToGroupAsync(Context.ConnectionId, AnnotationSequencer.ImageGroup(imageId));
        var participant = presence.Join(imageId, Context.ConnectionId, User);
        var snapshot = await Snapshot(imageId);
        await Clients.OthersInGroup(AnnotationSequencer.ImageGroup(imageId)).SendAsync("ParticipantJoined", imageId, participant);
        return snapshot;
    }

    public async Task LeaveImage(Guid imageId)
    {
        await Groups.RemoveFromGroupAsync(Context.ConnectionId, AnnotationSequencer.ImageGroup(imageId));
        if (presence.Leave(imageId, Context.ConnectionId) is { } p)
            await Clients.Group(AnnotationSequencer.ImageGroup(imageId)).SendAsync("ParticipantLeft", imageId, p);
    }

    /// <summary>Applies an op; the reply acknowledges it with its sequence number, or says why it was rejected.</summary>
    public async Task<OpAck> Submit(SubmitOp op)
    {
        var outcome = await sequencer.ApplyAsync(op, User);
        if (outcome.Applied is { } applied) return new OpAck(op.ClientOpId, applied.Seq);
        await Clients.Caller.SendAsync("Rejected", op.ClientOpId, outcome.Reason);
        return new OpAck(op.ClientOpId, null, outcome.Reason);
    }

    /// <summary>Reverts the caller's own latest op on the image (as a new op everyone receives as Applied).</summary>
    public Task<OpAck> Undo(Guid imageId) => UndoRedo(imageId, redo: false);

    /// <summary>Re-applies the caller's latest undo, unless they changed something since.</summary>
    public Task<OpAck> Redo(Guid imageId) => UndoRedo(imageId, redo: true);

    private async Task<OpAck> UndoRedo(Guid imageId, bool redo)
    {
        var outcome = redo ? await sequencer.RedoAsync(imageId, User) : await sequencer.UndoAsync(imageId, User);
        return outcome.Applied is { } applied ? new OpAck(applied.Op.ClientOpId, applied.Seq) : new OpAck(redo ? "redo" : "undo", null, outcome.Reason);
    }

    /// <summary>Review: submit / approve / reject (any image status), broadcast as ImageStatusChanged.</summary>
    public async Task SetImageStatus(Guid imageId, ImageStatus status)
    {
        var (_, problem) = await review.SetStatusAsync(imageId, status, User);
        if (problem is not null) throw new HubException(problem);
    }

    public async Task<CommentDto> AddComment(Guid imageId, NewComment comment)
    {
        var (dto, problem) = await review.AddCommentAsync(imageId, comment, User);
        return dto ?? throw new HubException(problem);
    }

    public async Task<CommentDto> ResolveComment(Guid imageId, Guid commentId, bool resolved) =>
        await review.ResolveCommentAsync(imageId, commentId, resolved) ?? throw new HubException($"no comment {commentId} on image {imageId}");

    public async Task<ResumeResult> Resume(Guid imageId, long lastSeq)
    {
        if (!await db.Images.AnyAsync(i => i.Id == imageId)) throw new HubException($"no image has id {imageId}");
        await Groups.AddToGroupAsync(Context.ConnectionId, AnnotationSequencer.ImageGroup(imageId));
        var participant = presence.Join(imageId, Context.ConnectionId, User);
        await Clients.OthersInGroup(AnnotationSequencer.ImageGroup(imageId)).SendAsync("ParticipantJoined", imageId, participant); // back after a disconnect
        long seq = await AnnotationSequencer.CurrentSeqAsync(db, imageId);
        if (seq - lastSeq > MaxReplay || lastSeq > seq) return new ResumeResult(imageId, seq, [], await Snapshot(imageId));
        var ops = await db.AnnotationOps.AsNoTracking().Where(o => o.ImageId == imageId && o.Seq > lastSeq).OrderBy(o => o.Seq).ToListAsync();
        return new ResumeResult(imageId, seq, ops.Select(AnnotationSequencer.ToApplied).ToList(), null);
    }

    public async Task UpdatePresence(Guid imageId, Presence state)
    {
        if (presence.Find(imageId, Context.ConnectionId) is not { } participant) throw new HubException("join the image before sending presence");
        if (!presence.AllowPresence(Context.ConnectionId, PresenceInterval)) return;
        await Clients.OthersInGroup(AnnotationSequencer.ImageGroup(imageId)).SendAsync("PresenceChanged", new PresenceChanged(imageId, participant, state));
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        foreach (var (imageId, participant) in presence.Disconnect(Context.ConnectionId))
            await Clients.Group(AnnotationSequencer.ImageGroup(imageId)).SendAsync("ParticipantLeft", imageId, participant);
        await base.OnDisconnectedAsync(exception);
    }

    /// <summary>Rows and seq read while no op can land in between: the snapshot is exactly the state after op seq.</summary>
    private Task<ImageSnapshot> Snapshot(Guid imageId) => sequencer.ReadExclusiveAsync(imageId, async () =>
    {
        long seq = await AnnotationSequencer.CurrentSeqAsync(db, imageId);
        var rows = await db.Annotations.AsNoTracking().Where(a => a.ImageId == imageId).OrderBy(a => a.Id).ToListAsync();
        return new ImageSnapshot(imageId, seq, rows.Select(AnnotationDto.From).ToList(), presence.Participants(imageId), await review.CommentsAsync(imageId));
    });
}
