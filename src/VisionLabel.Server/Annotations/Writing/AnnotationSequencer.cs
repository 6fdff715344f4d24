using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>Who a batch of ops comes from, which decides how it moves the image's status.</summary>
public enum OpOrigin { Person, Job, Import, System }

/// <summary>The result of a batch: the ops applied (in seq order; earlier copies for resubmitted ones), the ones refused,
/// and the rows this batch created (so a writer can report them without reading them back).</summary>
public sealed record BatchOutcome(IReadOnlyList<AppliedOp> Applied, IReadOnlyList<(SubmitOp Op, OpOutcome Outcome)> Rejected, IReadOnlyList<Annotation> Created);

/// <summary>
/// The one write path for an image's annotations: hub ops, REST writes, pre-labeling results, dataset imports, the
/// label-delete cascade and image deletes all come through here. Each call is one piece of work on the image
/// (<see cref="ImageUnitOfWork"/>: one at a time, across processes too) in which <see cref="OpApplier"/> decides the
/// ops against the current state, numbers them gaplessly, stores them with the new state in one transaction and
/// broadcasts them as Applied (<see cref="OpBroadcaster"/>). A resubmitted op (same author and clientOpId) is
/// acknowledged again without being applied twice. Live editors' ops on PostgreSQL go through
/// <see cref="GroupCommitQueue"/>.
/// </summary>
public sealed class AnnotationSequencer(ImageUnitOfWork work, OpApplier applier, GroupCommitQueue groups, SequencerCaches caches,
    OpBroadcaster broadcaster, Microsoft.Extensions.Options.IOptions<Common.DatabaseOptions> database)
{
    /// <summary>Op changes: documented enum names only (never integers), unknown properties refused so client bugs surface.</summary>
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    // Only where an op's cost is round trips to a database server: on SQLite (in-process, commits without fsync)
    // op by op measured better at the median (docs/benchmarks.md), so there it stays op by op.
    private readonly bool _grouped = DatabaseSetup.Provider(database.Value) == "postgres";

    /// <summary>How often another process took the seq (or changed a row) first and the work was decided again.</summary>
    public long Conflicts => work.Conflicts;

    /// <summary>Called when an image's status is set directly (a workflow transition), so the next person's edit re-checks it.</summary>
    public void StatusChanged(Guid imageId, ImageStatus status) => caches.StatusChanged(imageId, status);

    /// <summary>One op from a person (REST, or a hub op on SQLite).</summary>
    /// <param name="expectedVersion">REST's optimistic check: refused with Conflict unless the annotation is at this version.</param>
    /// <param name="role">The person's project role: it decides whether the image's stage lets them edit.</param>
    public Task<OpOutcome> ApplyAsync(SubmitOp op, string author, Accounts.ProjectRole role, int? expectedVersion = null, CancellationToken ct = default) =>
        work.RunAsync(op.ImageId, db => applier.ApplyPersonOpAsync(db, op, author, role, expectedVersion), ct);

    /// <summary>One op from a live editor: grouped with others waiting on the image where that pays (PostgreSQL).</summary>
    public async Task<OpOutcome> SubmitAsync(SubmitOp op, string author, Accounts.ProjectRole role, CancellationToken ct = default)
    {
        if (OpApplier.ClientOpIdProblem(op) is { } problem) return problem;
        return _grouped ? await groups.SubmitAsync(op, author, role, ct) : await ApplyAsync(op, author, role, ct: ct);
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
        work.RunAsync<BatchOutcome?>(imageId, async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            var ops = await prepare(db);
            if (ops is null) return null;
            // Ops this author already applied (a resumed job or import) are skipped: their earlier copies stand.
            var earlier = new Dictionary<string, AnnotationOp>();
            foreach (var chunk in freshIds ? [] : ops.Select(o => o.ClientOpId).Chunk(500))
                foreach (var o in await db.AnnotationOps.AsNoTracking().Where(o => o.ImageId == imageId && o.AuthorId == author && chunk.Contains(o.ClientOpId)).ToListAsync())
                    earlier[o.ClientOpId] = o;
            var fresh = new List<SubmitOp>();
            var bad = new List<(SubmitOp, OpOutcome)>();
            foreach (var op in ops.Where(o => !earlier.ContainsKey(o.ClientOpId)))
            {
                var problem = OpApplier.ClientOpIdProblem(op) ?? (op.ImageId != imageId ? OpOutcome.Rejected(RejectKind.Invalid, "op is for another image", "imageId") : null);
                if (problem is null) fresh.Add(op); else bad.Add((op, problem));
            }
            var result = await applier.ApplyAsync(db, imageId, fresh, author, origin, null, OpRole.Change, statusEvent, commit: tx, freshCreates: freshIds);
            return new BatchOutcome([.. earlier.Values.OrderBy(o => o.Seq).Select(AppliedOp.From), .. result.Applied], [.. bad, .. result.Rejected], result.Created);
        }, ct);

    /// <summary>
    /// A person's ops on one image, all or none (the bulk route): decided and stored in one transaction, rolled back
    /// when any is refused (the outcome lists the refused ones), broadcast only once committed.
    /// </summary>
    public Task<BatchOutcome> ApplyPersonBatchAsync(Guid imageId, IReadOnlyList<SubmitOp> ops, string author, Accounts.ProjectRole role, CancellationToken ct = default) =>
        work.RunAsync(imageId, async db =>
        {
            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            var result = await applier.ApplyAsync(db, imageId, ops, author, OpOrigin.Person, null, OpRole.Change, null, broadcast: false, freshCreates: true, editorRole: role);
            if (result.Rejected.Count > 0)
            {
                caches.Forget(imageId); // what it numbered and cached is rolled back with the transaction
                return new BatchOutcome([], result.Rejected, []);
            }
            await tx.CommitAsync(CancellationToken.None);
            await broadcaster.AppliedAsync(imageId, result.Applied);
            if (result.StatusMovedTo is { } status) await broadcaster.StatusChangedAsync(imageId, status, author);
            return new BatchOutcome(result.Applied, [], result.Created);
        }, ct);

    /// <summary>
    /// Deletes an image through the write path: every annotation on it is deleted as an op (so everyone on the image
    /// sees them go, in order), then the image row; ImageDeleted tells the image's watchers. False when there is no such image.
    /// </summary>
    public Task<bool> DeleteImageAsync(Guid imageId, string author, CancellationToken ct = default) =>
        work.RunAsync(imageId, async db =>
        {
            if (!await db.Images.AnyAsync(i => i.Id == imageId, ct)) return false;
            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            var annotationIds = await db.Annotations.Where(a => a.ImageId == imageId).Select(a => a.Id).ToListAsync(CancellationToken.None);
            string batch = Guid.NewGuid().ToString("N");
            var ops = annotationIds.Select(id => new SubmitOp($"image-delete:{batch}:{id}", imageId, OpType.Delete, id)).ToList();
            var result = await applier.ApplyAsync(db, imageId, ops, author, OpOrigin.System, null, OpRole.Change, null, broadcast: false);
            await db.Images.Where(i => i.Id == imageId).ExecuteDeleteAsync(CancellationToken.None);
            await tx.CommitAsync(CancellationToken.None);
            caches.Forget(imageId);
            await broadcaster.AppliedAsync(imageId, result.Applied);
            await broadcaster.ImageDeletedAsync(imageId, author);
            return true;
        }, ct);

    /// <summary>Runs <paramref name="action"/> while no op can be applied to the image, in this process or another: exact
    /// snapshots, and review status changes ordered with the edits' own status moves.</summary>
    public Task<T> ExclusiveAsync<T>(Guid imageId, Func<Task<T>> action) => work.ExclusiveAsync(imageId, action);

    /// <summary>Reverts the user's latest op on the image that is not yet undone (as a new op), or says there is none.</summary>
    public Task<OpOutcome> UndoAsync(Guid imageId, string author, Accounts.ProjectRole role, CancellationToken ct = default) => UndoRedoAsync(imageId, author, role, redo: false, ct);

    /// <summary>Re-applies what the user's latest undo reverted, unless they made a new change since.</summary>
    public Task<OpOutcome> RedoAsync(Guid imageId, string author, Accounts.ProjectRole role, CancellationToken ct = default) => UndoRedoAsync(imageId, author, role, redo: true, ct);

    private Task<OpOutcome> UndoRedoAsync(Guid imageId, string author, Accounts.ProjectRole role, bool redo, CancellationToken ct) =>
        work.RunAsync(imageId, async db =>
        {
            var state = await caches.UndoStateAsync(db, imageId, author);
            long? targetSeq = redo ? state.RedoTop : state.UndoTop;
            var target = targetSeq is { } s ? await db.AnnotationOps.AsNoTracking().FirstOrDefaultAsync(o => o.ImageId == imageId && o.Seq == s) : null;
            if (target?.Inverse is null) return OpOutcome.Rejected(RejectKind.Invalid, redo ? "nothing to redo" : "nothing to undo");

            var inverse = JsonDocument.Parse(target.Inverse).RootElement;
            long next = (await caches.LastSeqAsync(db, imageId)) + 1;
            var op = new SubmitOp($"{(redo ? "redo" : "undo")}-{target.Seq}-{next}", imageId, OpTypes.Parse(inverse.GetProperty("type").GetString()!), target.AnnotationId,
                inverse.TryGetProperty("changes", out var changes) ? changes.Clone() : null);
            var result = await applier.ApplyAsync(db, imageId, [op], author, OpOrigin.Person, null, new OpRole(redo ? OpRoleKind.Redo : OpRoleKind.Undo, target), null, editorRole: role);
            return result.Applied.Count == 1 ? result.Single() : result.Rejected[0].Outcome with { Reason = $"cannot {(redo ? "redo" : "undo")}: {result.Rejected[0].Outcome.Reason}" };
        }, ct);
}
