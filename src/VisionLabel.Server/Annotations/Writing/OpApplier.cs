using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>What applying ops on one image did: applied (seq order), refused, the last row touched, rows created.</summary>
internal sealed record OpsResult(List<AppliedOp> Applied, List<(SubmitOp Op, OpOutcome Outcome)> Rejected, Annotation? Current, List<Annotation> Created,
    ImageStatus? StatusMovedTo = null)
{
    public OpOutcome Single() => new(Applied[0], Duplicate: false, RejectKind.None, null, Current: Current);
}

/// <summary>
/// The core of the write path, always called inside an <see cref="ImageUnitOfWork"/>: loads the rows ops touch,
/// decides each op against the current state (<see cref="AnnotationAggregate.Decide"/>), gives the applied ones the
/// image's next gapless seqs, stores ops and current state in one transaction, moves the image's status, and
/// (unless told not to) broadcasts them as Applied.
/// </summary>
public sealed class OpApplier(SequencerCaches caches, OpBroadcaster broadcaster, Guidelines.GuidelineVersions guidelines)
{
    /// <summary>One op from a person. A resubmitted op (same author and clientOpId) gets its earlier outcome again:
    /// looked up only when this attempt is refused or its insert breaks the (image, author, clientOpId) unique index,
    /// so the common path makes no extra query.</summary>
    internal async Task<OpOutcome> ApplyPersonOpAsync(VisionLabelDb db, SubmitOp op, string author, Accounts.ProjectRole role, int? expectedVersion)
    {
        if (ClientOpIdProblem(op) is { } problem) return problem;
        OpOutcome outcome;
        try
        {
            var result = await ApplyAsync(db, op.ImageId, [op], author, OpOrigin.Person, expectedVersion, OpRole.Change, null, editorRole: role);
            outcome = result.Applied.Count == 1 ? result.Single() : result.Rejected[0].Outcome;
        }
        catch (DbUpdateException)
        {
            caches.Forget(op.ImageId);
            if (await EarlierAsync(db, op, author) is { } duplicate) return duplicate;
            throw;
        }
        if (outcome.Applied is null && outcome.Reject is not (RejectKind.NotFound or RejectKind.Stage) && await EarlierAsync(db, op, author) is { } earlier) return earlier;
        return outcome;
    }

    /// <summary>
    /// Decides, numbers, stores and (unless told not to) broadcasts ops on one image.
    /// Commits <paramref name="commit"/> when given (the caller's transaction), else saves in one implicit transaction.
    /// A person's ops (<paramref name="editorRole"/>: their project role) are refused while the image's stage keeps them out.
    /// </summary>
    internal async Task<OpsResult> ApplyAsync(VisionLabelDb db, Guid imageId, IReadOnlyList<SubmitOp> ops, string author, OpOrigin origin,
        int? expectedVersion, OpRole role, ImageEvent? statusEvent, IDbContextTransaction? commit = null, bool broadcast = true, bool freshCreates = false,
        Accounts.ProjectRole? editorRole = null)
    {
        var applied = new List<AppliedOp>();
        var rejected = new List<(SubmitOp, OpOutcome)>();
        var image = await caches.ImageAsync(db, imageId);
        if (image is null)
        {
            rejected.AddRange(ops.Select(o => (o, OpOutcome.Rejected(RejectKind.NotFound, $"no image has id {imageId}"))));
            return new(applied, rejected, null, []);
        }
        if (origin == OpOrigin.Person && ImageStatusRules.EditProblem(image.Status, editorRole ?? Accounts.ProjectRole.Viewer) is { } locked)
        {
            rejected.AddRange(ops.Select(o => (o, OpOutcome.Rejected(RejectKind.Stage, locked))));
            if (commit is not null) await commit.CommitAsync(CancellationToken.None);
            return new(applied, rejected, null, []);
        }
        bool replaying = role.Kind != OpRoleKind.Change;
        var set = await LoadAsync(db, image, ops, replaying, freshCreates);
        var now = DateTime.UtcNow;
        long seq = await caches.LastSeqAsync(db, imageId);
        var undo = ops.Count > 0 ? await caches.UndoStateAsync(db, imageId, author) : default;
        string? guideline = ops.Count > 0 ? await guidelines.CurrentAsync(db, image.ProjectId) : null; // stamped on every op and changed annotation
        var records = new List<AnnotationOp>();
        var created = new List<Annotation>();
        bool byPerson = false;
        Annotation? current = null;
        var touched = new List<(OpEffect, Annotation)>();
        foreach (var op in ops)
        {
            var decision = AnnotationAggregate.Decide(set, op, author, expectedVersion, replaying, now, out var refusal);
            if (decision is null) { rejected.Add((op, refusal)); continue; }
            switch (decision.Effect)
            {
                case OpEffect.Created: db.Annotations.Add(decision.Row); created.Add(decision.Row); break;
                case OpEffect.Deleted: db.Annotations.Remove(decision.Row); break;
            }
            current = decision.Effect == OpEffect.Deleted ? null : decision.Row;
            touched.Add((decision.Effect, decision.Row));
            if (decision.Effect != OpEffect.Deleted) decision.Row.GuidelineVersion = guideline;
            byPerson |= origin == OpOrigin.Person && (decision.Effect != OpEffect.Created || decision.Row.Source == AnnotationSourceType.Human);
            var record = new AnnotationOp
            {
                ImageId = imageId, Seq = ++seq, ClientOpId = op.ClientOpId, AuthorId = author, Type = op.Type, AnnotationId = op.AnnotationId,
                Changes = decision.Changes.ToJsonString(), Inverse = decision.Inverse.ToJsonString(), AppliedAt = now, GuidelineVersion = guideline,
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

        await ProposalTracking.TrackAsync(db, image, touched, origin, author, now); // saved with the ops

        var tx = commit;
        bool ownTx = false;
        if (tx is null && db.Database.CurrentTransaction is null && byPerson && !image.StatusSettled) { tx = await db.Database.BeginTransactionAsync(CancellationToken.None); ownTx = true; }
        ImageStatus? moved = null;
        try
        {
            if (byPerson && !image.StatusSettled && await ImageStatusRules.ApplyAsync(db, imageId, ImageEvent.EditedByPerson, now))
                moved = ImageStatusRules.Transition(ImageEvent.EditedByPerson).To;
            if (statusEvent is { } e && await ImageStatusRules.ApplyAsync(db, imageId, e, now)) moved = ImageStatusRules.Transition(e).To;
            await db.SaveChangesAsync(CancellationToken.None); // the ops and the new current state together; the (image, seq) key guards the order
            if (tx is not null) await tx.CommitAsync(CancellationToken.None);
        }
        finally { if (ownTx) await tx!.DisposeAsync(); }

        if (byPerson) image.StatusSettled = true;
        if (moved is { } to) image.Status = to;
        caches.Stored(imageId, seq, author, undo);
        applied.AddRange(records.Select(AppliedOp.From));
        if (broadcast)
        {
            await broadcaster.AppliedAsync(imageId, applied);
            if (moved is { } status) await broadcaster.StatusChangedAsync(imageId, status, author);
        }
        return new(applied, rejected, current, created, moved);
    }

    /// <summary>Loads the rows the ops touch, in as few queries as the ops need.</summary>
    private static async Task<OpWorkingSet> LoadAsync(VisionLabelDb db, ImageInfo image, IReadOnlyList<SubmitOp> ops, bool replaying, bool freshCreates)
    {
        var set = new OpWorkingSet { Image = image };
        // Ids the caller minted for its creates have no row and were never deleted: nothing to look up.
        var minted = freshCreates ? ops.Where(o => o.Type == OpType.Create).Select(o => o.AnnotationId).ToHashSet() : [];
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
        if (missing.Count > 0 && !(replaying && ops.All(o => o.Type == OpType.Create)))
            foreach (var chunk in missing.Chunk(500))
                set.Deleted.UnionWith(await db.AnnotationOps.Where(o => o.ImageId == image.Id && o.Type == OpType.Delete && chunk.Contains(o.AnnotationId))
                    .Select(o => o.AnnotationId).ToListAsync());
        // Names as the changes are read (case-insensitive): "Attributes" sets attributes as "attributes" does.
        static bool NamesLabelOrAttributes(JsonElement c) => c.EnumerateObject().Any(p =>
            p.Name.Equals("labelId", StringComparison.OrdinalIgnoreCase) || p.Name.Equals("attributes", StringComparison.OrdinalIgnoreCase));
        if (ops.Any(o => o.Changes is { ValueKind: JsonValueKind.Object } c && NamesLabelOrAttributes(c)))
            set.Labels = (await db.Labels.Where(l => l.ProjectId == image.ProjectId).Select(l => new { l.Id, l.Name, l.Attributes }).ToListAsync())
                .ToDictionary(l => l.Id, l => new LabelFacts(l.Name, l.Attributes));
        else set.Labels = [];
        return set;
    }

    private static void Place(OpWorkingSet set, Annotation? row, Guid id, Guid imageId)
    {
        if (row is not null && row.ImageId != imageId) { set.UsedElsewhere.Add(id); row = null; }
        set.Rows[id] = row;
    }

    internal static OpOutcome? ClientOpIdProblem(SubmitOp op) =>
        string.IsNullOrWhiteSpace(op.ClientOpId) || op.ClientOpId.Length > 100
            ? OpOutcome.Rejected(RejectKind.Invalid, "clientOpId is required (at most 100 characters)", "clientOpId")
            : null;

    private static async Task<OpOutcome?> EarlierAsync(VisionLabelDb db, SubmitOp op, string author) =>
        await db.AnnotationOps.AsNoTracking().FirstOrDefaultAsync(o => o.ImageId == op.ImageId && o.AuthorId == author && o.ClientOpId == op.ClientOpId) is { } earlier
            ? new OpOutcome(AppliedOp.From(earlier), Duplicate: true, RejectKind.None, null)
            : null;
}
