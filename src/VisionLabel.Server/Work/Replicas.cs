using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Work;

/// <summary>Onboarding not passed: the annotator's honeypot figures so far, and what happens next.</summary>
public sealed record OnboardingState(int Required, int Done, double? MeanF1, double Threshold, bool Passed);

/// <summary>
/// The queue's private copies (docs/quality.md): an annotator's own, independent annotation of another image, kept as an
/// image row of its own (<see cref="Image.ReplicaOf"/>) so the editor, the hub and the write path need nothing new.
/// <list type="bullet">
/// <item>Honeypots: a copy of a ground-truth image, handed out like any image: to every annotator during onboarding, then
/// at the project's honeypot share; never the same ground-truth image twice to one person.</item>
/// <item>Consensus: with overlap N, each of N annotators gets a copy of the image; the merge (Quality) runs when the
/// N-th copy is submitted.</item>
/// </list>
/// Copies are claimed under a per-project lock (PostgreSQL: an advisory lock for the transaction; SQLite: the queue's
/// per-project gate), so an image never gets more copies than its overlap; a unique index (copy of, owner) keeps one copy
/// per person per image whatever happens.
/// </summary>
public sealed class Replicas(VisionLabelDb db)
{
    /// <summary>The project's ground truth is in use as honeypots: its images stay out of the ordinary queue (they would give the truth away).</summary>
    public static bool UsesHoneypots(Project p) => p.HoneypotPercent > 0 || p.OnboardingImages > 0;

    /// <summary>Where the caller stands with onboarding: done when the project asks for none, or when the mean F1 of their last
    /// <see cref="Project.OnboardingImages"/> honeypots reaches the threshold.</summary>
    public async Task<OnboardingState> OnboardingAsync(Project project, string me, CancellationToken ct)
    {
        if (project.OnboardingImages <= 0) return new OnboardingState(0, 0, null, project.AgreementThreshold, true);
        var scores = await db.Images.IgnoreQueryFilters().AsNoTracking()
            .Where(r => r.ProjectId == project.Id && r.ReplicaOwner == me && r.ReplicaKind == ReplicaKind.Honeypot && r.ReplicaF1 != null)
            .OrderByDescending(r => r.SubmittedAt).Select(r => r.ReplicaF1!.Value).Take(project.OnboardingImages).ToListAsync(ct);
        double? mean = scores.Count == 0 ? null : scores.Average();
        return new OnboardingState(project.OnboardingImages, scores.Count, mean, project.AgreementThreshold,
            scores.Count >= project.OnboardingImages && mean >= project.AgreementThreshold);
    }

    /// <summary>A copy of the caller's that is not submitted yet (its lease ran out): theirs to finish before anything new.</summary>
    public Task<Image?> UnfinishedAsync(Project project, string me, CancellationToken ct) =>
        db.Images.IgnoreQueryFilters().Where(r => r.ProjectId == project.Id && r.ReplicaOwner == me && r.Status != ImageStatus.Approved)
            .OrderBy(r => r.Id).FirstOrDefaultAsync(ct);

    /// <summary>A honeypot for the caller: a copy of a ground-truth image they have no copy of, chosen at random; null when none is left.</summary>
    public async Task<Image?> HoneypotAsync(Project project, string me, DateTime now, DateTime until, CancellationToken ct)
    {
        var mine = db.Images.IgnoreQueryFilters().Where(r => r.ReplicaOf != null && r.ReplicaOwner == me).Select(r => r.ReplicaOf);
        var candidates = await db.Images.AsNoTracking()
            .Where(i => i.ProjectId == project.Id && i.ReplicaOf == null && i.ArchivedAt == null && db.GroundTruth.Any(g => g.ImageId == i.Id) && !mine.Contains(i.Id))
            .Select(i => i.Id).ToListAsync(ct);
        if (candidates.Count == 0) return null;
        var pick = candidates[Random.Shared.Next(candidates.Count)];
        var parent = await db.Images.AsNoTracking().FirstAsync(i => i.Id == pick, ct);
        return await CreateAsync(parent, ReplicaKind.Honeypot, me, now, until, ct);
    }

    /// <summary>A consensus copy for the caller: an unassigned image in the annotate stage with fewer than overlap copies and
    /// none of theirs, the images most copies have started first (to finish images), then the project's priority.</summary>
    public async Task<Image?> ConsensusAsync(Project project, string me, DateTime now, DateTime until, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await AdvisoryLocks.ForProjectAsync(db, AdvisoryLocks.ConsensusClaims, project.Id, ct);
        var copies = db.Images.IgnoreQueryFilters().Where(r => r.ReplicaKind == ReplicaKind.Consensus);
        bool honeypots = UsesHoneypots(project);
        // ReplicaOf == null spelled out: a query that ignores the filter anywhere (the subqueries here) ignores it everywhere.
        var query = db.Images.AsNoTracking().Where(i => i.ProjectId == project.Id && i.ReplicaOf == null && i.ArchivedAt == null && i.AnnotateAssignee == null
                && (i.Status == ImageStatus.New || i.Status == ImageStatus.Prelabeled || i.Status == ImageStatus.InProgress)
                && (!honeypots || !db.GroundTruth.Any(g => g.ImageId == i.Id))
                && copies.Count(r => r.ReplicaOf == i.Id) < project.Overlap && !copies.Any(r => r.ReplicaOf == i.Id && r.ReplicaOwner == me))
            .OrderByDescending(i => copies.Count(r => r.ReplicaOf == i.Id));
        var ordered = project.QueuePriority switch
        {
            QueuePriority.Random => query.ThenBy(i => i.ShuffleKey).ThenBy(i => i.Id),
            QueuePriority.Confidence => query.ThenBy(i => i.Confidence == null ? 1 : 0).ThenBy(i => i.Confidence).ThenBy(i => i.Id),
            _ => query.ThenBy(i => i.Id),
        };
        var parent = await ordered.FirstOrDefaultAsync(ct);
        if (parent is null) return null;
        var copy = await CreateAsync(parent, ReplicaKind.Consensus, me, now, until, ct);
        await tx.CommitAsync(ct);
        return copy;
    }

    private async Task<Image> CreateAsync(Image parent, ReplicaKind kind, string me, DateTime now, DateTime until, CancellationToken ct)
    {
        var copy = new Image
        {
            ProjectId = parent.ProjectId, ContentHash = parent.ContentHash, FileName = parent.FileName, Width = parent.Width, Height = parent.Height,
            Orientation = parent.Orientation, Format = parent.Format, SizeBytes = parent.SizeBytes, BlobKey = parent.BlobKey, Pyramid = parent.Pyramid,
            Status = ImageStatus.New, CreatedAt = now, UpdatedAt = now,
            ReplicaOf = parent.Id, ReplicaKind = kind, ReplicaOwner = me, AnnotateAssignee = me,
            LeaseHolder = me, LeaseStage = WorkStage.Annotate, LeaseExpiresAt = until,
        };
        db.Images.Add(copy);
        await db.SaveChangesAsync(ct);
        return copy;
    }
}
