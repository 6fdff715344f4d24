using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;

namespace VisionLabel.Server.Collaboration;

/// <summary>Who a batch of ops comes from, which decides how it moves the image's status.</summary>
public enum OpOrigin { Person, Job, Import, System }

/// <summary>The result of a batch: the ops applied (in seq order; earlier copies for resubmitted ones), the ones refused,
/// and the rows this batch created (so a writer can report them without reading them back).</summary>
public sealed record BatchOutcome(IReadOnlyList<AppliedOp> Applied, IReadOnlyList<(SubmitOp Op, OpOutcome Outcome)> Rejected, IReadOnlyList<Annotation> Created);

/// <summary>
/// The one write path for an image's annotations: hub ops, REST writes, pre-labeling results, dataset imports, the
/// label-delete cascade and image deletes all come through here. For each image, one piece of work at a time
/// (<see cref="ImageGates"/>): the ops are decided against the current state (<see cref="AnnotationAggregate"/>),
/// given the next gapless sequence numbers, stored with the new current state in one transaction, and broadcast
/// as Applied in seq order (<see cref="OpBroadcaster"/>). A resubmitted op (same author and clientOpId) is
/// acknowledged again without being applied twice.
/// </summary>
public sealed class AnnotationSequencer(IServiceScopeFactory scopes, ImageGates gates, OpBroadcaster broadcaster, Microsoft.Extensions.Options.IOptions<Common.DatabaseOptions> database)
{
    /// <summary>Op changes: documented enum names only (never integers), unknown properties refused so client bugs surface.</summary>
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    // Per image, touched only under its gate: the last seq this process wrote, what ops need of the image,
    // and each author's undo/redo tops. Dropped on any failure, so they are re-read from the database; all of it is
    // dropped when CachedImages images are held, so a server that has written to millions of images (a long run of
    // pre-labeling) does not keep them all (dropping is always safe: every entry is re-read on a miss).
    private const int CachedImages = 100_000;
    private long _imagesRead;
    private readonly ConcurrentDictionary<Guid, long> _lastSeq = new();
    private readonly ConcurrentDictionary<Guid, ImageInfo> _images = new();
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<string, UndoState>> _undo = new();

    /// <summary>Called when an image's status is set directly (review), so the next person's edit re-checks it.</summary>
    public void StatusChanged(Guid imageId)
    {
        if (_images.TryGetValue(imageId, out var info)) info.StatusSettled = false;
    }

    /// <summary>One op from a person (hub or REST).</summary>
    /// <param name="expectedVersion">REST's optimistic check: refused with Conflict unless the annotation is at this version.</param>
    public Task<OpOutcome> ApplyAsync(SubmitOp op, string author, int? expectedVersion = null, CancellationToken ct = default) =>
        RunAsync(op.ImageId, db => ApplyOneAsync(db, op, author, expectedVersion), ct);

    private async Task<OpOutcome> ApplyOneAsync(VisionLabelDb db, SubmitOp op, string author, int? expectedVersion)
    {
        {
            if (ClientOpIdProblem(op) is { } problem) return problem;
            OpOutcome outcome;
            // A resubmitted op is found by looking for its earlier copy only when this attempt is refused or its insert
            // breaks the (image, author, clientOpId) unique index: no extra query on the common path.
            try
            {
                var result = await ApplyOpsAsync(db, op.ImageId, [op], author, OpOrigin.Person, expectedVersion, OpRole.Change, null);
                outcome = result.Applied.Count == 1 ? Single(result) : result.Rejected[0].Outcome;
            }
            catch (DbUpdateException)
            {
                Forget(op.ImageId);
                if (await EarlierAsync(db, op, author) is { } duplicate) return duplicate;
                throw;
            }
            if (outcome.Applied is null && outcome.Reject != RejectKind.NotFound && await EarlierAsync(db, op, author) is { } earlier) return earlier;
            return outcome;
        }
    }

    private readonly bool Grouped = DatabaseSetup.Provider(database.Value) == "postgres";

    private sealed record QueuedOp(SubmitOp Op, string Author, TaskCompletionSource<OpOutcome> Outcome);
    private readonly ConcurrentDictionary<Guid, ConcurrentQueue<QueuedOp>> _queued = new();
    /// <summary>Most ops one unit of work applies together.</summary>
    private const int MaxGroup = 256;

    /// <summary>
    /// One op from a live editor. Ops for an image that wait while another unit of work holds the image are applied
    /// together by the next one in — one lock, one transaction, one broadcast — in the order they arrived (group
    /// commit). Under load that is what keeps an image's throughput up: the per-op cost is the database's round trips,
    /// and a busy image pays them once per group instead of once per op. Idle, a group is one op and this is ApplyAsync.
    /// </summary>
    public async Task<OpOutcome> SubmitAsync(SubmitOp op, string author, CancellationToken ct = default)
    {
        if (ClientOpIdProblem(op) is { } problem) return problem;
        // Only where an op's cost is round trips to a database server: on SQLite (in-process, commits without fsync)
        // op by op measured better at the median (docs/benchmarks.md), so there it stays op by op.
        if (!Grouped) return await ApplyAsync(op, author, ct: ct);
        var queued = new QueuedOp(op, author, new TaskCompletionSource<OpOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));
        var queue = _queued.GetOrAdd(op.ImageId, _ => new ConcurrentQueue<QueuedOp>());
        queue.Enqueue(queued);
        try
        {
            await RunAsync(op.ImageId, async db =>
            {
                // Until this caller's op is done (an earlier unit may have taken it with its group already).
                while (!queued.Outcome.Task.IsCompleted)
                {
                    var group = new List<QueuedOp>();
                    while (group.Count < MaxGroup && queue.TryDequeue(out var next)) group.Add(next);
                    if (group.Count == 0) break;
                    try
                    {
                        // Alone (the image was idle): the plain path, with no look-up of earlier copies unless refused.
                        if (group.Count == 1) group[0].Outcome.TrySetResult(await ApplyOneAsync(db, group[0].Op, group[0].Author, null));
                        else await ApplyGroupAsync(db, op.ImageId, group);
                    }
                    catch (Exception e) when (group.Count > 1 && !(e is DbUpdateException u && IsRace(u)))
                    {
                        // One op broke the group (not a race: a bug, or a row gone under it): nothing landed; apply
                        // them one by one so only that op fails.
                        Forget(op.ImageId);
                        foreach (var q in group)
                        {
                            db.ChangeTracker.Clear();
                            try { await ApplyGroupAsync(db, op.ImageId, [q]); }
                            catch (Exception single) when (!(single is DbUpdateException r && IsRace(r))) { Forget(op.ImageId); q.Outcome.TrySetException(single); }
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
        var first = new Dictionary<(string, string), int>(); // the same op sent twice before either was applied: one copy
        var copies = new List<(int Copy, int Of)>();
        await using (var tx = await db.Database.BeginTransactionAsync(CancellationToken.None))
        {
            for (int start = 0; start < group.Count;)
            {
                int end = start;
                while (end < group.Count && group[end].Author == group[start].Author) end++;
                var run = new List<(int Index, SubmitOp Op)>();
                for (int i = start; i < end; i++)
                {
                    var q = group[i];
                    if (earlier.TryGetValue((q.Author, q.Op.ClientOpId), out var copy)) outcomes[i] = new OpOutcome(ToApplied(copy), Duplicate: true, RejectKind.None, null);
                    else if (q.Op.ImageId != imageId) outcomes[i] = OpOutcome.Rejected(RejectKind.Invalid, "op is for another image", "imageId");
                    else if (first.TryGetValue((q.Author, q.Op.ClientOpId), out var of)) copies.Add((i, of));
                    else { first[(q.Author, q.Op.ClientOpId)] = i; run.Add((i, q.Op)); }
                }
                if (run.Count > 0)
                {
                    var result = await ApplyOpsAsync(db, imageId, run.Select(r => r.Op).ToList(), group[start].Author, OpOrigin.Person, null, OpRole.Change, null, broadcast: false);
                    var byId = result.Applied.ToDictionary(a => a.Op.ClientOpId);
                    var refused = result.Rejected.ToDictionary(r => r.Op.ClientOpId, r => r.Outcome);
                    foreach (var (index, op) in run)
                        outcomes[index] = byId.TryGetValue(op.ClientOpId, out var a) ? new OpOutcome(a, Duplicate: false, RejectKind.None, null) : refused[op.ClientOpId];
                    applied.AddRange(result.Applied);
                }
                start = end;
            }
            await tx.CommitAsync(CancellationToken.None);
        }
        foreach (var (copy, of) in copies) outcomes[copy] = outcomes[of]! with { Duplicate = outcomes[of]!.Applied is not null };
        if (applied.Count > 0) await broadcaster.AppliedAsync(imageId, applied);
        for (int i = 0; i < group.Count; i++) group[i].Outcome.TrySetResult(outcomes[i]!);
    }

    /// <summary>
    /// Several ops on one image from a job, an import or a cascade, in one transaction with whatever
    /// <paramref name="prepare"/> writes (it runs under the image's gate, inside the transaction, and returns the ops
    /// to apply, or null to apply none and roll back). Refused ops are reported, the rest land; resubmitted ones
    /// (same author and clientOpId as before) are not applied again. <paramref name="statusEvent"/> moves the image's
    /// status in the same transaction. <paramref name="freshIds"/>: the caller vouches that every clientOpId and every
    /// created annotation id is new (a job mints them, and claims its item in the same transaction so it never
    /// submits them twice), which saves looking them up: two queries per image on the pre-labeling path.
    /// </summary>
    public Task<BatchOutcome?> ApplyBatchAsync(Guid imageId, string author, OpOrigin origin, Func<VisionLabelDb, Task<IReadOnlyList<SubmitOp>?>> prepare,
        ImageEvent? statusEvent = null, CancellationToken ct = default, bool freshIds = false) =>
        RunAsync<BatchOutcome?>(imageId, async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            var ops = await prepare(db);
            if (ops is null) return null;
            // Ops this author already applied (a resumed job or import) are skipped: their earlier copies stand.
            var ids = ops.Select(o => o.ClientOpId).ToList();
            var earlier = new Dictionary<string, AnnotationOp>();
            foreach (var chunk in freshIds ? [] : ids.Chunk(500))
                foreach (var o in await db.AnnotationOps.AsNoTracking().Where(o => o.ImageId == imageId && o.AuthorId == author && chunk.Contains(o.ClientOpId)).ToListAsync())
                    earlier[o.ClientOpId] = o;
            var fresh = new List<SubmitOp>();
            var bad = new List<(SubmitOp, OpOutcome)>();
            foreach (var op in ops.Where(o => !earlier.ContainsKey(o.ClientOpId)))
            {
                var problem = ClientOpIdProblem(op) ?? (op.ImageId != imageId ? OpOutcome.Rejected(RejectKind.Invalid, "op is for another image", "imageId") : null);
                if (problem is null) fresh.Add(op); else bad.Add((op, problem));
            }
            var result = await ApplyOpsAsync(db, imageId, fresh, author, origin, null, OpRole.Change, statusEvent, commit: tx, freshCreates: freshIds);
            return new BatchOutcome([.. earlier.Values.OrderBy(o => o.Seq).Select(ToApplied), .. result.Applied], [.. bad, .. result.Rejected], result.Created);
        }, ct);

    /// <summary>
    /// Deletes an image through the write path: every annotation on it is deleted as an op (so everyone on the image
    /// sees them go, in order), then the image row; ImageDeleted tells the image's watchers. False when there is no such image.
    /// </summary>
    public Task<bool> DeleteImageAsync(Guid imageId, string author, CancellationToken ct = default) =>
        RunAsync(imageId, async db =>
        {
            if (!await db.Images.AnyAsync(i => i.Id == imageId, ct)) return false;
            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            var annotationIds = await db.Annotations.Where(a => a.ImageId == imageId).Select(a => a.Id).ToListAsync(CancellationToken.None);
            string batch = Guid.NewGuid().ToString("N");
            var ops = annotationIds.Select(id => new SubmitOp($"image-delete:{batch}:{id}", imageId, "delete", id)).ToList();
            var result = await ApplyOpsAsync(db, imageId, ops, author, OpOrigin.System, null, OpRole.Change, null, broadcast: false);
            await db.Images.Where(i => i.Id == imageId).ExecuteDeleteAsync(CancellationToken.None);
            await tx.CommitAsync(CancellationToken.None);
            Forget(imageId);
            await broadcaster.AppliedAsync(imageId, result.Applied);
            await broadcaster.ImageDeletedAsync(imageId, author);
            return true;
        }, ct);

    /// <summary>Runs <paramref name="read"/> while no op can be applied to the image (for exact snapshots).</summary>
    public Task<T> ReadExclusiveAsync<T>(Guid imageId, Func<Task<T>> read) => gates.RunAsync(imageId, async () =>
    {
        // Writers in other processes wait for the image's lock too (held on this connection while the caller reads on its own).
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        await ImageLocks.AcquireAsync(db, imageId, CancellationToken.None);
        try { return await read(); }
        finally { await ImageLocks.ReleaseAsync(db, imageId); }
    });

    public static async Task<long> CurrentSeqAsync(VisionLabelDb db, Guid imageId, CancellationToken ct = default) =>
        await db.AnnotationOps.Where(o => o.ImageId == imageId).MaxAsync(o => (long?)o.Seq, ct) ?? 0;

    public static AppliedOp ToApplied(AnnotationOp o) =>
        new(o.Seq, o.AuthorId, new SubmitOp(o.ClientOpId, o.ImageId, o.Type, o.AnnotationId, o.Type == "delete" ? null : JsonDocument.Parse(o.Changes).RootElement));

    /// <summary>Reverts the user's latest op on the image that is not yet undone (as a new op), or says there is none.</summary>
    public Task<OpOutcome> UndoAsync(Guid imageId, string author, CancellationToken ct = default) => UndoRedoAsync(imageId, author, redo: false, ct);

    /// <summary>Re-applies what the user's latest undo reverted, unless they made a new change since.</summary>
    public Task<OpOutcome> RedoAsync(Guid imageId, string author, CancellationToken ct = default) => UndoRedoAsync(imageId, author, redo: true, ct);

    private Task<OpOutcome> UndoRedoAsync(Guid imageId, string author, bool redo, CancellationToken ct) =>
        RunAsync(imageId, async db =>
        {
            var state = await UndoStateAsync(db, imageId, author);
            long? targetSeq = redo ? state.RedoTop : state.UndoTop;
            var target = targetSeq is { } s ? await db.AnnotationOps.AsNoTracking().FirstOrDefaultAsync(o => o.ImageId == imageId && o.Seq == s) : null;
            if (target?.Inverse is null) return OpOutcome.Rejected(RejectKind.Invalid, redo ? "nothing to redo" : "nothing to undo");

            var inverse = JsonDocument.Parse(target.Inverse).RootElement;
            long next = (await LastSeqAsync(db, imageId)) + 1;
            var op = new SubmitOp($"{(redo ? "redo" : "undo")}-{target.Seq}-{next}", imageId, inverse.GetProperty("type").GetString()!, target.AnnotationId,
                inverse.TryGetProperty("changes", out var changes) ? changes.Clone() : null);
            var result = await ApplyOpsAsync(db, imageId, [op], author, OpOrigin.Person, null, new OpRole(redo ? OpRoleKind.Redo : OpRoleKind.Undo, target), null);
            return result.Applied.Count == 1 ? Single(result) : result.Rejected[0].Outcome with { Reason = $"cannot {(redo ? "redo" : "undo")}: {result.Rejected[0].Outcome.Reason}" };
        }, ct);

    /// <summary>Attempts of one piece of work when other processes keep winning the race for the image's next seq.</summary>
    private const int MaxAttempts = 8;

    /// <summary>How often another process took the seq (or changed a row) first and the work was decided again.</summary>
    public long Conflicts => Interlocked.Read(ref _conflicts);
    private long _conflicts;

    /// <summary>
    /// The image's gate (one piece of work at a time in this process), then on PostgreSQL the image's advisory lock
    /// (one at a time across processes; <see cref="ImageLocks"/>), and a fresh DbContext per attempt. Under the lock
    /// the image's last seq is read with the lock itself: when it is not the one this process cached, another process
    /// wrote meanwhile, and this process's caches of the image are dropped. Should the (image, seq) key or a row
    /// version still refuse a write (SQLite shared with a CLI process, which takes no lock), the work is decided again
    /// on the state as it now is. docs/realtime-protocol.md says why a lock and not only optimistic retries: measured
    /// with two processes on one image, the process that lost a race kept losing (the winner's next seq is in its cache).
    /// </summary>
    private Task<T> RunAsync<T>(Guid imageId, Func<VisionLabelDb, Task<T>> work, CancellationToken ct) =>
        gates.RunAsync(imageId, async () =>
        {
            for (int attempt = 1; ; attempt++)
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
                long? lastSeq = await ImageLocks.AcquireAsync(db, imageId, ct);
                try
                {
                    if (lastSeq is { } last && (!_lastSeq.TryGetValue(imageId, out var cached) || cached != last))
                    {
                        Forget(imageId);
                        _lastSeq[imageId] = last;
                    }
                    return await work(db);
                }
                catch (DbUpdateException e) when (attempt < MaxAttempts && IsRace(e))
                {
                    Forget(imageId);
                    Interlocked.Increment(ref _conflicts);
                    await Task.Delay(Random.Shared.Next(0, attempt * 2), CancellationToken.None); // let the winner's commit land
                }
                catch { Forget(imageId); throw; } // e.g. the image is gone: re-read next time
                finally { await ImageLocks.ReleaseAsync(db, imageId); }
            }
        }, ct);

    /// <summary>A unique key or a row version refused the write: someone else wrote first (not bad data).</summary>
    private static bool IsRace(DbUpdateException e) => e is DbUpdateConcurrencyException || e.InnerException switch
    {
        Npgsql.PostgresException pg => pg.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation,
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 1555 or 2067, // primary key, unique
        _ => false,
    };

    private void Forget(Guid imageId)
    {
        _lastSeq.TryRemove(imageId, out _);
        _images.TryRemove(imageId, out _);
        _undo.TryRemove(imageId, out _);
    }

    private static OpOutcome Single(OpsResult r) => new(r.Applied[0], Duplicate: false, RejectKind.None, null, Current: r.Current);

    private sealed record OpsResult(List<AppliedOp> Applied, List<(SubmitOp Op, OpOutcome Outcome)> Rejected, Annotation? Current, List<Annotation> Created);

    /// <summary>
    /// Decides, numbers, stores and (unless told not to) broadcasts ops on one image. Called under the image's gate.
    /// Commits <paramref name="commit"/> when given (the caller's transaction), else saves in one implicit transaction.
    /// </summary>
    private async Task<OpsResult> ApplyOpsAsync(VisionLabelDb db, Guid imageId, IReadOnlyList<SubmitOp> ops, string author, OpOrigin origin,
        int? expectedVersion, OpRole role, ImageEvent? statusEvent, Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction? commit = null, bool broadcast = true,
        bool freshCreates = false)
    {
        var applied = new List<AppliedOp>();
        var rejected = new List<(SubmitOp, OpOutcome)>();
        var image = await ImageAsync(db, imageId);
        if (image is null)
        {
            rejected.AddRange(ops.Select(o => (o, OpOutcome.Rejected(RejectKind.NotFound, $"no image has id {imageId}"))));
            return new(applied, rejected, null, []);
        }
        var set = await LoadAsync(db, image, ops, role.Kind != OpRoleKind.Change, freshCreates);
        var now = DateTime.UtcNow;
        long seq = await LastSeqAsync(db, imageId);
        var undo = ops.Count > 0 ? await UndoStateAsync(db, imageId, author) : default;
        var records = new List<AnnotationOp>();
        var created = new List<Annotation>();
        bool byPerson = false;
        Annotation? current = null;
        foreach (var op in ops)
        {
            var decision = AnnotationAggregate.Decide(set, op, author, expectedVersion, role.Kind != OpRoleKind.Change, now, out var refusal);
            if (decision is null) { rejected.Add((op, refusal)); continue; }
            switch (decision.Effect)
            {
                case OpEffect.Created: db.Annotations.Add(decision.Row); created.Add(decision.Row); break;
                case OpEffect.Deleted: db.Annotations.Remove(decision.Row); break;
            }
            current = decision.Effect == OpEffect.Deleted ? null : decision.Row;
            byPerson |= origin == OpOrigin.Person && (decision.Effect != OpEffect.Created || decision.Row.Source == AnnotationSourceType.Human);
            var record = new AnnotationOp
            {
                ImageId = imageId, Seq = ++seq, ClientOpId = op.ClientOpId, AuthorId = author, Type = op.Type, AnnotationId = op.AnnotationId,
                Changes = decision.Changes.ToJsonString(), Inverse = decision.Inverse.ToJsonString(), AppliedAt = now,
                UndoOf = role.Kind == OpRoleKind.Undo ? role.Target!.Seq : null, RedoOf = role.Kind == OpRoleKind.Redo ? role.Target!.Seq : null,
            };
            undo = UndoStacks.Push(undo, record, role);
            db.AnnotationOps.Add(record);
            records.Add(record);
        }
        if (records.Count == 0 && statusEvent is null)
        {
            if (commit is not null) await commit.CommitAsync(CancellationToken.None); // what prepare wrote still lands
            return new(applied, rejected, current, created);
        }

        var tx = commit;
        bool ownTx = false;
        if (tx is null && db.Database.CurrentTransaction is null && byPerson && !image.StatusSettled) { tx = await db.Database.BeginTransactionAsync(CancellationToken.None); ownTx = true; }
        try
        {
            if (byPerson && !image.StatusSettled) await ImageStatusRules.ApplyAsync(db, imageId, ImageEvent.EditedByPerson, now);
            if (statusEvent is { } e) await ImageStatusRules.ApplyAsync(db, imageId, e, now);
            await db.SaveChangesAsync(CancellationToken.None); // the ops and the new current state together; the (image, seq) key guards the order
            if (tx is not null) await tx.CommitAsync(CancellationToken.None);
        }
        finally { if (ownTx) await tx!.DisposeAsync(); }

        if (byPerson) image.StatusSettled = true;
        _lastSeq[imageId] = seq;
        _undo.GetOrAdd(imageId, _ => new ConcurrentDictionary<string, UndoState>())[author] = undo;
        applied.AddRange(records.Select(ToApplied));
        if (broadcast) await broadcaster.AppliedAsync(imageId, applied);
        return new(applied, rejected, current, created);
    }

    private async Task<ImageInfo?> ImageAsync(VisionLabelDb db, Guid imageId)
    {
        if (_images.TryGetValue(imageId, out var image)) return image;
        var row = await db.Images.AsNoTracking().Where(i => i.Id == imageId).Select(i => new { i.ProjectId, i.Width, i.Height }).FirstOrDefaultAsync();
        if (row is null) return null;
        // Counting a ConcurrentDictionary takes all its locks: look every 1,024 new images, not at each.
        if (Interlocked.Increment(ref _imagesRead) % 1024 == 0 && (_images.Count >= CachedImages || _lastSeq.Count >= CachedImages))
        {
            _images.Clear();
            _lastSeq.Clear();
            _undo.Clear();
        }
        return _images[imageId] = new ImageInfo(imageId, row.ProjectId, row.Width, row.Height);
    }

    private async Task<long> LastSeqAsync(VisionLabelDb db, Guid imageId) =>
        _lastSeq.TryGetValue(imageId, out var last) ? last : await CurrentSeqAsync(db, imageId);

    private async Task<UndoState> UndoStateAsync(VisionLabelDb db, Guid imageId, string author) =>
        _undo.TryGetValue(imageId, out var authors) && authors.TryGetValue(author, out var state) ? state : await UndoStacks.ReadAsync(db, imageId, author);

    /// <summary>Loads the rows the ops touch, in as few queries as the ops need.</summary>
    private static async Task<OpWorkingSet> LoadAsync(VisionLabelDb db, ImageInfo image, IReadOnlyList<SubmitOp> ops, bool replaying, bool freshCreates)
    {
        var set = new OpWorkingSet { Image = image };
        // Ids the caller minted for its creates have no row and were never deleted: nothing to look up.
        var minted = freshCreates ? ops.Where(o => o.Type == "create").Select(o => o.AnnotationId).ToHashSet() : [];
        foreach (var id in minted) set.Rows[id] = null;
        var ids = ops.Select(o => o.AnnotationId).Where(id => !minted.Contains(id)).Distinct().ToList();
        if (ids.Count == 1)
        {
            var row = await db.Annotations.FirstOrDefaultAsync(a => a.Id == ids[0]);
            Place(set, row, ids[0], image.Id);
        }
        else
        {
            foreach (var chunk in ids.Chunk(500))
            {
                var rows = await db.Annotations.Where(a => chunk.Contains(a.Id)).ToDictionaryAsync(a => a.Id);
                foreach (var id in chunk) Place(set, rows.GetValueOrDefault(id), id, image.Id);
            }
        }
        // Whether a missing annotation was deleted: only asked for the ids that are missing (and not for an undo/redo create).
        var missing = ids.Where(id => set.Rows[id] is null && !set.UsedElsewhere.Contains(id)).ToList();
        if (missing.Count > 0 && !(replaying && ops.All(o => o.Type == "create")))
            foreach (var chunk in missing.Chunk(500))
                set.Deleted.UnionWith(await db.AnnotationOps.Where(o => o.ImageId == image.Id && o.Type == "delete" && chunk.Contains(o.AnnotationId))
                    .Select(o => o.AnnotationId).ToListAsync());
        if (ops.Any(o => o.Changes is { ValueKind: JsonValueKind.Object } c && c.TryGetProperty("labelId", out _)))
            set.LabelIds = (await db.Labels.Where(l => l.ProjectId == image.ProjectId).Select(l => l.Id).ToListAsync()).ToHashSet();
        else set.LabelIds = [];
        return set;
    }

    private static void Place(OpWorkingSet set, Annotation? row, Guid id, Guid imageId)
    {
        if (row is not null && row.ImageId != imageId) { set.UsedElsewhere.Add(id); row = null; }
        set.Rows[id] = row;
    }

    private static OpOutcome? ClientOpIdProblem(SubmitOp op) =>
        string.IsNullOrWhiteSpace(op.ClientOpId) || op.ClientOpId.Length > 100
            ? OpOutcome.Rejected(RejectKind.Invalid, "clientOpId is required (at most 100 characters)", "clientOpId")
            : null;

    private static async Task<OpOutcome?> EarlierAsync(VisionLabelDb db, SubmitOp op, string author) =>
        await db.AnnotationOps.AsNoTracking().FirstOrDefaultAsync(o => o.ImageId == op.ImageId && o.AuthorId == author && o.ClientOpId == op.ClientOpId) is { } earlier
            ? new OpOutcome(ToApplied(earlier), Duplicate: true, RejectKind.None, null)
            : null;
}
