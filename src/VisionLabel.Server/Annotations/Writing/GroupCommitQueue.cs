using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// Group commit for live editors' ops (PostgreSQL only). Ops for an image that wait while another unit of work holds
/// the image are applied together by the next one in — one lock, one transaction, one broadcast — in the order they
/// arrived. Under load that is what keeps an image's throughput up: the per-op cost is the database's round trips,
/// and a busy image pays them once per group instead of once per op. Idle, a group is one op.
/// </summary>
public sealed class GroupCommitQueue(ImageUnitOfWork work, OpApplier applier, SequencerCaches caches, OpBroadcaster broadcaster)
{
    private sealed record QueuedOp(SubmitOp Op, string Author, Accounts.ProjectRole Role, TaskCompletionSource<OpOutcome> Outcome);
    private readonly ConcurrentDictionary<Guid, ConcurrentQueue<QueuedOp>> _queued = new();
    /// <summary>Most ops one unit of work applies together.</summary>
    private const int MaxGroup = 256;

    public async Task<OpOutcome> SubmitAsync(SubmitOp op, string author, Accounts.ProjectRole role, CancellationToken ct)
    {
        var queued = new QueuedOp(op, author, role, new TaskCompletionSource<OpOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));
        var queue = _queued.GetOrAdd(op.ImageId, _ => new ConcurrentQueue<QueuedOp>());
        queue.Enqueue(queued);
        try
        {
            await work.RunAsync(op.ImageId, async db =>
            {
                // Until this caller's op is done (an earlier unit may have taken it with its group already).
                while (!queued.Outcome.Task.IsCompleted)
                {
                    var group = new List<QueuedOp>();
                    while (group.Count < MaxGroup && queue.TryDequeue(out var next)) group.Add(next);
                    if (group.Count == 0) break;
                    await ApplyOrSplitAsync(db, op.ImageId, queue, group);
                    db.ChangeTracker.Clear();
                }
                return 0;
            }, CancellationToken.None);
        }
        catch (Exception e)
        {
            // The unit failed past its retries: fail the ops still waiting, so no caller waits forever.
            if (!queued.Outcome.Task.IsCompleted)
                while (queue.TryDequeue(out var stranded)) stranded.Outcome.TrySetException(e);
        }
        // An idle image keeps no queue. Whoever still enqueues into this one drains it itself (each caller's unit of
        // work runs until its own op is done), so removing it never strands an op.
        if (queue.IsEmpty) _queued.TryRemove(new KeyValuePair<Guid, ConcurrentQueue<QueuedOp>>(op.ImageId, queue));
        return await queued.Outcome.Task.WaitAsync(ct);
    }

    private async Task ApplyOrSplitAsync(VisionLabelDb db, Guid imageId, ConcurrentQueue<QueuedOp> queue, List<QueuedOp> group)
    {
        try
        {
            // Alone (the image was idle): the plain path, with no look-up of earlier copies unless refused.
            if (group.Count == 1) group[0].Outcome.TrySetResult(await applier.ApplyPersonOpAsync(db, group[0].Op, group[0].Author, group[0].Role, null));
            else await ApplyGroupAsync(db, imageId, group);
        }
        catch (Exception e) when (group.Count > 1 && !(e is DbUpdateException u && ImageUnitOfWork.IsRace(u)))
        {
            // One op broke the group (not a race: a bug, or a row gone under it): nothing landed; apply them one by
            // one so only that op fails.
            caches.Forget(imageId);
            foreach (var q in group)
            {
                db.ChangeTracker.Clear();
                try { await ApplyGroupAsync(db, imageId, [q]); }
                catch (Exception single) when (!(single is DbUpdateException r && ImageUnitOfWork.IsRace(r))) { caches.Forget(imageId); q.Outcome.TrySetException(single); }
                catch
                {
                    foreach (var rest in group.Where(g => !g.Outcome.Task.IsCompleted).Reverse()) Requeue(queue, rest);
                    throw; // a race: the retry takes the rest
                }
            }
        }
        catch
        {
            // Nothing of the group landed (another process wrote first): put it back at the front for the retry.
            foreach (var q in group.AsEnumerable().Reverse()) Requeue(queue, q);
            throw;
        }
    }

    private static void Requeue(ConcurrentQueue<QueuedOp> queue, QueuedOp op)
    {
        // ConcurrentQueue has no push-front: rebuild it with the op first (rare: only after a failed group).
        var rest = new List<QueuedOp>();
        while (queue.TryDequeue(out var q)) rest.Add(q);
        queue.Enqueue(op);
        foreach (var q in rest) queue.Enqueue(q);
    }

    /// <summary>
    /// A group of queued ops in one transaction: resubmissions (same author and clientOpId as an op in the log) are
    /// acknowledged with their earlier seq; the rest are applied in arrival order, each run of one author's ops as one
    /// batch; everything commits together and is broadcast together, then each caller gets its outcome.
    /// </summary>
    private async Task ApplyGroupAsync(VisionLabelDb db, Guid imageId, List<QueuedOp> group)
    {
        var outcomes = new OpOutcome?[group.Count];
        var earlier = new Dictionary<(string, string), AnnotationOp>();
        var ids = group.Select(q => q.Op.ClientOpId).Distinct().ToList();
        foreach (var o in await db.AnnotationOps.AsNoTracking().Where(o => o.ImageId == imageId && ids.Contains(o.ClientOpId)).ToListAsync())
            earlier[(o.AuthorId, o.ClientOpId)] = o;
        var applied = new List<AppliedOp>();
        (ImageStatus Status, string By)? moved = null;
        var first = new Dictionary<(string, string), int>(); // the same op sent twice before either was applied: one copy
        var copies = new List<(int Copy, int Of)>();
        await using (var tx = await db.Database.BeginTransactionAsync(CancellationToken.None))
        {
            for (int start = 0; start < group.Count;)
            {
                int end = start;
                while (end < group.Count && group[end].Author == group[start].Author && group[end].Role == group[start].Role) end++;
                var run = new List<(int Index, SubmitOp Op)>();
                for (int i = start; i < end; i++)
                {
                    var q = group[i];
                    if (earlier.TryGetValue((q.Author, q.Op.ClientOpId), out var copy)) outcomes[i] = new OpOutcome(AppliedOp.From(copy), Duplicate: true, RejectKind.None, null);
                    else if (q.Op.ImageId != imageId) outcomes[i] = OpOutcome.Rejected(RejectKind.Invalid, "op is for another image", "imageId");
                    else if (first.TryGetValue((q.Author, q.Op.ClientOpId), out var of)) copies.Add((i, of));
                    else { first[(q.Author, q.Op.ClientOpId)] = i; run.Add((i, q.Op)); }
                }
                if (run.Count > 0)
                {
                    var result = await applier.ApplyAsync(db, imageId, run.Select(r => r.Op).ToList(), group[start].Author, OpOrigin.Person, null, OpRole.Change, null, broadcast: false, editorRole: group[start].Role);
                    var byId = result.Applied.ToDictionary(a => a.Op.ClientOpId);
                    var refused = result.Rejected.ToDictionary(r => r.Op.ClientOpId, r => r.Outcome);
                    foreach (var (index, op) in run)
                        outcomes[index] = byId.TryGetValue(op.ClientOpId, out var a) ? new OpOutcome(a, Duplicate: false, RejectKind.None, null) : refused[op.ClientOpId];
                    applied.AddRange(result.Applied);
                    if (result.StatusMovedTo is { } status) moved = (status, group[start].Author);
                }
                start = end;
            }
            await tx.CommitAsync(CancellationToken.None);
        }
        foreach (var (copy, of) in copies) outcomes[copy] = outcomes[of]! with { Duplicate = outcomes[of]!.Applied is not null };
        if (applied.Count > 0) await broadcaster.AppliedAsync(imageId, applied);
        if (moved is { } m) await broadcaster.StatusChangedAsync(imageId, m.Status, m.By);
        for (int i = 0; i < group.Count; i++) group[i].Outcome.TrySetResult(outcomes[i]!);
    }
}
