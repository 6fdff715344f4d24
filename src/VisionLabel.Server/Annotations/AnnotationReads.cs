using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// What a client reads to follow an image live: a snapshot exact at a seq, or the ops after the seq it has. The hub
/// calls these; they live here so the rule "a snapshot is exactly the state after op seq" has one home.
/// </summary>
public sealed class AnnotationReads(VisionLabelDb db, AnnotationSequencer sequencer, IParticipantDirectory participants, ReviewService review)
{
    /// <summary>How far behind Resume replays ops; beyond that it sends a fresh snapshot.</summary>
    public const int MaxReplay = 1000;

    public static async Task<long> CurrentSeqAsync(VisionLabelDb db, Guid imageId, CancellationToken ct = default) =>
        await db.AnnotationOps.Where(o => o.ImageId == imageId).MaxAsync(o => (long?)o.Seq, ct) ?? 0;

    /// <summary>Rows and seq read while no op can land in between: the snapshot is exactly the state after op seq.</summary>
    public Task<ImageSnapshot> SnapshotAsync(Guid imageId) => sequencer.ExclusiveAsync(imageId, async () =>
    {
        long seq = await CurrentSeqAsync(db, imageId);
        var rows = await db.Annotations.AsNoTracking().Where(a => a.ImageId == imageId).OrderBy(a => a.Id).ToListAsync();
        return new ImageSnapshot(imageId, seq, rows.Select(AnnotationDto.From).ToList(), await participants.ListAsync(imageId), await review.CommentsAsync(imageId));
    });

    /// <summary>The ops after <paramref name="lastSeq"/>, or a snapshot when the client is too far behind (or ahead: another database).</summary>
    public async Task<ResumeResult> ResumeAsync(Guid imageId, long lastSeq)
    {
        long seq = await CurrentSeqAsync(db, imageId);
        if (seq - lastSeq > MaxReplay || lastSeq > seq) return new ResumeResult(imageId, seq, [], await SnapshotAsync(imageId));
        var ops = await db.AnnotationOps.AsNoTracking().Where(o => o.ImageId == imageId && o.Seq > lastSeq).OrderBy(o => o.Seq).ToListAsync();
        return new ResumeResult(imageId, seq, ops.Select(AppliedOp.From).ToList(), null);
    }
}
