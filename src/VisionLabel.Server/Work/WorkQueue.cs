using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Work;

/// <summary>What POST …/queue/next hands out: the image, the queue's stage, when the lease ends, and whether it is rework.</summary>
public sealed record LeaseDto(Guid ImageId, WorkStage Stage, DateTime LeaseExpiresAt, ImageStatus Status, bool Rework);

/// <summary>
/// The pull queue. <see cref="NextAsync"/> leases the caller one image of a stage, in this order: an image they already
/// hold in that stage (asking again never hoards a second); for annotating, their rework (rejected images they
/// submitted), then images assigned to them, then unassigned work; for reviewing, images assigned to them for review,
/// then unassigned submissions, never their own unless the project allows self-review. Unassigned work comes in the
/// project's priority (upload order, random with the seed, lowest model confidence first).
///
/// A claim is one UPDATE … WHERE "Id" = (SELECT … LIMIT 1) RETURNING: on PostgreSQL the inner select takes the row with
/// FOR UPDATE SKIP LOCKED, so concurrent callers (any process) each take a different row without waiting on each
/// other; SQLite runs the statement under its database-wide write lock, so it is atomic there too, and this process
/// additionally takes claims one at a time per project so callers do not spin on SQLITE_BUSY. The lease is free when
/// its holder is null or its time has passed, which is the condition of the claim: an expired lease is simply taken.
/// </summary>
public sealed class WorkQueue(VisionLabelDb db, TimeProvider time, Replicas replicas)
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, SemaphoreSlim> SqliteClaims = new();

    /// <summary>A lease, nothing (204), or a refusal (onboarding not passed and no honeypot left to pass it with).</summary>
    public sealed record Outcome(LeaseDto? Lease, WorkRefusal? Refusal = null);

    public async Task<Outcome> NextAsync(Project project, WorkStage stage, string me, CancellationToken ct)
    {
        bool sqlite = !db.Database.IsNpgsql();
        var gate = sqlite ? SqliteClaims.GetOrAdd(project.Id, _ => new SemaphoreSlim(1, 1)) : null;
        if (gate is not null) await gate.WaitAsync(ct);
        try
        {
            var now = time.GetUtcNow().UtcDateTime;
            var until = now.AddSeconds(project.LeaseSeconds);
            // Already holding one in this stage (a private copy included): the same one again, renewed.
            var held = await db.Images.IgnoreQueryFilters().Where(i => i.ProjectId == project.Id && i.LeaseHolder == me && i.LeaseStage == stage && i.LeaseExpiresAt > now)
                .OrderBy(i => i.Id).Select(i => new { i.Id, i.Status }).FirstOrDefaultAsync(ct);
            // Renewed only while still theirs and live (it may have expired and been taken since the read): else claim anew.
            if (held is not null && await db.Images.IgnoreQueryFilters().Where(i => i.Id == held.Id && i.LeaseHolder == me && i.LeaseExpiresAt > now)
                    .ExecuteUpdateAsync(u => u.SetProperty(i => i.LeaseExpiresAt, until), ct) == 1)
                return new Outcome(new LeaseDto(held.Id, stage, until, held.Status, held.Status == ImageStatus.Rejected));
            if (stage == WorkStage.Annotate && await PrivateCopyAsync(project, me, now, until, ct) is { } copy) return copy;
            if (project.QueuePriority == QueuePriority.Random) await EnsureShuffledAsync(project, ct);
            foreach (var tier in Tiers(project, stage))
            {
                if (tier == Tier.Unassigned && stage == WorkStage.Annotate && project.MaxPerAnnotator is { } cap &&
                    await db.Images.CountAsync(i => i.ProjectId == project.Id && (i.SubmittedBy == me || (i.LeaseHolder == me && i.LeaseExpiresAt > now)), ct) >= cap)
                    break; // at the cap: only rework and assignments
                if (tier == Tier.Unassigned && stage == WorkStage.Annotate && project.Overlap > 1)
                {
                    // Consensus: a copy of its own for each of overlap annotators instead of the image itself.
                    var share = await replicas.ConsensusAsync(project, me, now, until, ct);
                    return new Outcome(share is null ? null : await LeasedAsync(project, share.Id, WorkStage.Annotate, me, now, until, share.Status, 0, false));
                }
                if (await ClaimAsync(project, stage, tier, me, now, until, ct) is { } claimed)
                    return new Outcome(await LeasedAsync(project, claimed.Id, stage, me, now, until, claimed.Status, claimed.Rounds, tier == Tier.Rework));
            }
            return new Outcome(null);
        }
        finally { gate?.Release(); }
    }

    /// <summary>Before ordinary work: a private copy of the caller's left unfinished; onboarding honeypots until they pass
    /// (or a refusal when none is left); then, at the project's share, a honeypot. Null: ordinary work.</summary>
    private async Task<Outcome?> PrivateCopyAsync(Project project, string me, DateTime now, DateTime until, CancellationToken ct)
    {
        if (await replicas.UnfinishedAsync(project, me, ct) is { } unfinished)
        {
            int taken = await db.Images.IgnoreQueryFilters().Where(i => i.Id == unfinished.Id && i.ReplicaOwner == me && (i.LeaseHolder == null || i.LeaseHolder == me || i.LeaseExpiresAt <= now))
                .ExecuteUpdateAsync(u => u.SetProperty(i => i.LeaseHolder, me).SetProperty(i => i.LeaseStage, WorkStage.Annotate).SetProperty(i => i.LeaseExpiresAt, until), ct);
            if (taken == 1) return new Outcome(await LeasedAsync(project, unfinished.Id, WorkStage.Annotate, me, now, until, unfinished.Status, 0, false));
        }
        var onboarding = await replicas.OnboardingAsync(project, me, ct);
        bool honeypot = !onboarding.Passed || (project.HoneypotPercent > 0 && Random.Shared.Next(100) < project.HoneypotPercent);
        if (!honeypot) return null;
        if (await replicas.HoneypotAsync(project, me, now, until, ct) is { } pot)
            return new Outcome(await LeasedAsync(project, pot.Id, WorkStage.Annotate, me, now, until, pot.Status, 0, false));
        if (onboarding.Passed) return null; // no honeypot left for them: ordinary work
        return new Outcome(null, new WorkRefusal(409, "Onboarding not passed",
            onboarding.Done < onboarding.Required
                ? $"This project asks for {onboarding.Required} onboarding images before real work; you have done {onboarding.Done} and no more are available. An owner adds ground truth (POST /api/projects/{project.Id}/ground-truth/import) or lowers workflow.onboardingImages."
                : $"Your mean F1 over your last {onboarding.Required} onboarding images is {onboarding.MeanF1:0.00}, below the project's {onboarding.Threshold:0.00}, and no onboarding image is left to try again. Ask an owner: they add ground truth or change workflow.agreementThreshold."));
    }

    private async Task<LeaseDto> LeasedAsync(Project project, Guid imageId, WorkStage stage, string me, DateTime now, DateTime until, ImageStatus status, int round, bool rework)
    {
        db.WorkEvents.Add(new WorkEvent { ProjectId = project.Id, ImageId = imageId, Kind = WorkEventKind.Leased, Actor = me, Stage = stage, At = now, Round = round });
        await db.SaveChangesAsync(CancellationToken.None);
        return new LeaseDto(imageId, stage, until, status, rework);
    }

    private enum Tier { Rework, Assigned, Unassigned }

    private static IEnumerable<Tier> Tiers(Project project, WorkStage stage) =>
        stage == WorkStage.Annotate ? [Tier.Rework, Tier.Assigned, Tier.Unassigned] : [Tier.Assigned, Tier.Unassigned];

    private sealed record Claimed(Guid Id, ImageStatus Status, int Rounds);

    private async Task<Claimed?> ClaimAsync(Project project, WorkStage stage, Tier tier, string me, DateTime now, DateTime until, CancellationToken ct)
    {
        bool postgres = db.Database.IsNpgsql();
        const string annotating = "\"Status\" IN ('New', 'Prelabeled', 'InProgress')";
        const string ordinary = "(\"NeedsAdjudication\" = @false)";
        // Ground-truth images are honeypots while the project uses them: never handed out in the clear.
        string notTruth = Replicas.UsesHoneypots(project) ? " AND NOT EXISTS (SELECT 1 FROM \"GroundTruth\" g WHERE g.\"ImageId\" = c.\"Id\")" : "";
        string notMine = project.AllowSelfReview ? "" : " AND (\"SubmittedBy\" IS NULL OR \"SubmittedBy\" <> @me)";
        string which = (stage, tier) switch
        {
            (WorkStage.Annotate, Tier.Rework) => "\"Status\" = 'Rejected' AND \"SubmittedBy\" = @me AND (\"AnnotateAssignee\" IS NULL OR \"AnnotateAssignee\" = @me)",
            (WorkStage.Annotate, Tier.Assigned) => $"({annotating} OR \"Status\" = 'Rejected') AND \"AnnotateAssignee\" = @me",
            // A merged consensus image someone rejected has no single submitter: it comes back as ordinary work.
            (WorkStage.Annotate, _) => $"({annotating} OR (\"Status\" = 'Rejected' AND \"SubmittedBy\" IS NULL)) AND \"AnnotateAssignee\" IS NULL" + notTruth,
            (WorkStage.Review, Tier.Assigned) => $"\"Status\" = 'Submitted' AND {ordinary} AND \"ReviewAssignee\" = @me" + notMine,
            (WorkStage.Review, _) => $"\"Status\" = 'Submitted' AND {ordinary} AND \"ReviewAssignee\" IS NULL" + notMine,
            (WorkStage.Adjudicate, Tier.Assigned) => "\"Status\" = 'Submitted' AND \"NeedsAdjudication\" = @true AND \"ReviewAssignee\" = @me",
            _ => "\"Status\" = 'Submitted' AND \"NeedsAdjudication\" = @true AND \"ReviewAssignee\" IS NULL",
        };
        string order = tier != Tier.Unassigned ? "\"Id\"" : project.QueuePriority switch
        {
            QueuePriority.Random => "\"ShuffleKey\", \"Id\"",
            QueuePriority.Confidence => "CASE WHEN \"Confidence\" IS NULL THEN 1 ELSE 0 END, \"Confidence\", \"Id\"",
            _ => "\"Id\"",
        };
        string sql = $"""
            UPDATE "Images" SET "LeaseHolder" = @me, "LeaseStage" = @stage, "LeaseExpiresAt" = @until
            WHERE "Id" = (SELECT c."Id" FROM "Images" c WHERE "ProjectId" = @project AND "ReplicaOf" IS NULL AND "ArchivedAt" IS NULL AND ("LeaseHolder" IS NULL OR "LeaseExpiresAt" <= @now) AND {which}
                          ORDER BY {order} LIMIT 1{(postgres ? " FOR UPDATE SKIP LOCKED" : "")})
            RETURNING "Id", "Status", "ReworkRounds"
            """;
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            Add(command, "me", me);
            Add(command, "stage", stage.ToString());
            Add(command, "until", until);
            Add(command, "now", now);
            Add(command, "true", true);
            Add(command, "false", false);
            // EF keeps ids on SQLite as upper-case text (a bare Guid parameter would bind as a blob and match nothing).
            Add(command, "project", postgres ? project.Id : project.Id.ToString().ToUpperInvariant());
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct)) return null;
            return new Claimed(reader.GetGuid(0), Enum.Parse<ImageStatus>(reader.GetString(1)), reader.GetInt32(2));
        }
        finally { await db.Database.CloseConnectionAsync(); }
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        command.Parameters.Add(p);
    }

    /// <summary>Random priority: images without a shuffle key (new uploads, or all after the seed changed) get one from the seed and their id.</summary>
    public async Task EnsureShuffledAsync(Project project, CancellationToken ct)
    {
        while (true)
        {
            var batch = await db.Images.Where(i => i.ProjectId == project.Id && i.ShuffleKey == null).Take(1000).ToListAsync(ct);
            if (batch.Count == 0) return;
            foreach (var image in batch) image.ShuffleKey = ShuffleKey(project.QueueSeed, image.Id);
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>A 63-bit key from the seed and the id (SplitMix64 of their mix): the same seed gives the same order.</summary>
    public static long ShuffleKey(int seed, Guid id) => Common.StableHash.Of(seed, id);

}
