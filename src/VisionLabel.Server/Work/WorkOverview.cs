using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Work;

/// <summary>An image in a list of work: enough to show it and open it.</summary>
public sealed record WorkImage(Guid ImageId, string FileName, ImageStatus Status, int ReworkRounds, DateTime? LeaseExpiresAt);

/// <summary>The "My work" page: your rework and assignments, what you hold, and how much each queue has for you.</summary>
public sealed record MyWorkDto(IReadOnlyList<WorkImage> Rework, IReadOnlyList<WorkImage> Assigned, IReadOnlyList<WorkImage> ReviewAssigned,
    IReadOnlyList<LeaseDto> Holding, int AvailableToAnnotate, int AvailableToReview, ProjectRole Role);

/// <summary>Images by stage: annotate (not started or in progress), rework, submitted (waiting), in review (leased), approved.</summary>
public sealed record StageCounts(int Annotate, int Rework, int Submitted, int InReview, int Approved, int Total);

public sealed record HeldLease(Guid ImageId, string FileName, string Holder, WorkStage Stage, DateTime ExpiresAt);

/// <summary>One member's work in the project. Submitted: images they submitted last; approved: of those, approved;
/// reworkRounds: how often their submissions were rejected; reviewed: approvals and rejections they made.</summary>
public sealed record PersonWork(string User, ProjectRole Role, int AssignedAnnotate, int AssignedReview, int Holding, int Submitted, int Approved,
    int ReworkRounds, int Reviewed);

/// <summary>GET …/work: for owners and reviewers, who holds what, the stages and each person's work.</summary>
public sealed record WorkOverviewDto(StageCounts Counts, IReadOnlyList<HeldLease> Leases, IReadOnlyList<PersonWork> People);

public sealed class WorkOverview(VisionLabelDb db, TimeProvider time)
{
    private const int ListLimit = 200;

    public async Task<MyWorkDto> MineAsync(Project project, string me, ProjectRole role, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var images = db.Images.AsNoTracking().Where(i => i.ProjectId == project.Id && i.ArchivedAt == null);
        var rework = await images.Where(i => i.Status == ImageStatus.Rejected && (i.SubmittedBy == me && (i.AnnotateAssignee == null || i.AnnotateAssignee == me) || i.AnnotateAssignee == me))
            .OrderBy(i => i.Id).Take(ListLimit).Select(i => new WorkImage(i.Id, i.FileName, i.Status, i.ReworkRounds, i.LeaseExpiresAt)).ToListAsync(ct);
        var assigned = await images.Where(i => i.AnnotateAssignee == me && (i.Status == ImageStatus.New || i.Status == ImageStatus.Prelabeled || i.Status == ImageStatus.InProgress))
            .OrderBy(i => i.Id).Take(ListLimit).Select(i => new WorkImage(i.Id, i.FileName, i.Status, i.ReworkRounds, i.LeaseExpiresAt)).ToListAsync(ct);
        var reviewAssigned = await images.Where(i => i.ReviewAssignee == me && i.Status == ImageStatus.Submitted)
            .OrderBy(i => i.Id).Take(ListLimit).Select(i => new WorkImage(i.Id, i.FileName, i.Status, i.ReworkRounds, i.LeaseExpiresAt)).ToListAsync(ct);
        var holding = await images.Where(i => i.LeaseHolder == me && i.LeaseExpiresAt > now && i.LeaseStage != null)
            .Select(i => new { i.Id, i.LeaseStage, i.LeaseExpiresAt, i.Status }).ToListAsync(ct);
        var free = images.Where(i => i.LeaseHolder == null || i.LeaseExpiresAt <= now);
        int toAnnotate = await free.CountAsync(i => (i.Status == ImageStatus.New || i.Status == ImageStatus.Prelabeled || i.Status == ImageStatus.InProgress)
                                                    && (i.AnnotateAssignee == null || i.AnnotateAssignee == me), ct)
                         + rework.Count(r => r.LeaseExpiresAt is null || r.LeaseExpiresAt <= now);
        int toReview = role < ProjectRole.Reviewer ? 0 : await free.CountAsync(i => i.Status == ImageStatus.Submitted && (i.ReviewAssignee == null || i.ReviewAssignee == me)
                                                                                   && (project.AllowSelfReview || i.SubmittedBy == null || i.SubmittedBy != me), ct);
        return new MyWorkDto(rework, assigned, reviewAssigned,
            holding.Select(h => new LeaseDto(h.Id, h.LeaseStage!.Value, h.LeaseExpiresAt!.Value, h.Status, h.Status == ImageStatus.Rejected)).ToList(),
            toAnnotate, toReview, role);
    }

    public async Task<WorkOverviewDto> OverviewAsync(Project project, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var images = db.Images.AsNoTracking().Where(i => i.ProjectId == project.Id && i.ArchivedAt == null);
        var byStatus = await images.GroupBy(i => i.Status).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        int Of(ImageStatus s) => byStatus.GetValueOrDefault(s);
        var leases = await images.Where(i => i.LeaseHolder != null && i.LeaseExpiresAt > now)
            .OrderBy(i => i.LeaseExpiresAt).Take(ListLimit)
            .Select(i => new HeldLease(i.Id, i.FileName, i.LeaseHolder!, i.LeaseStage ?? WorkStage.Annotate, i.LeaseExpiresAt!.Value)).ToListAsync(ct);
        int inReview = await images.CountAsync(i => i.Status == ImageStatus.Submitted && i.LeaseHolder != null && i.LeaseExpiresAt > now, ct);
        var counts = new StageCounts(Of(ImageStatus.New) + Of(ImageStatus.Prelabeled) + Of(ImageStatus.InProgress), Of(ImageStatus.Rejected),
            Of(ImageStatus.Submitted) - inReview, inReview, Of(ImageStatus.Approved), byStatus.Values.Sum());

        var members = await db.ProjectMembers.AsNoTracking().Where(m => m.ProjectId == project.Id)
            .Join(db.Users, m => m.UserId, u => u.Id, (m, u) => new { User = u.UserName!, m.Role }).ToListAsync(ct);
        var annotateAssigned = await images.Where(i => i.AnnotateAssignee != null && i.Status != ImageStatus.Submitted && i.Status != ImageStatus.Approved)
            .GroupBy(i => i.AnnotateAssignee!).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var reviewAssigned = await images.Where(i => i.ReviewAssignee != null && i.Status == ImageStatus.Submitted)
            .GroupBy(i => i.ReviewAssignee!).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var submitted = await images.Where(i => i.SubmittedBy != null)
            .GroupBy(i => i.SubmittedBy!).Select(g => new { g.Key, Count = g.Count(), Approved = g.Count(i => i.Status == ImageStatus.Approved) })
            .ToDictionaryAsync(g => g.Key, g => (g.Count, g.Approved), ct);
        var events = db.WorkEvents.AsNoTracking().Where(e => e.ProjectId == project.Id);
        var rework = await events.Where(e => e.Kind == WorkEventKind.Rejected && e.Subject != null)
            .GroupBy(e => e.Subject!).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var reviewed = await events.Where(e => e.Kind == WorkEventKind.Approved || e.Kind == WorkEventKind.Rejected)
            .GroupBy(e => e.Actor).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        // Counted apart from the listed leases (the list stops at 200; the counts must not).
        var holding = await images.Where(i => i.LeaseHolder != null && i.LeaseExpiresAt > now).GroupBy(i => i.LeaseHolder!)
            .Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var people = members.OrderByDescending(m => m.Role).ThenBy(m => m.User, StringComparer.OrdinalIgnoreCase).Select(m => new PersonWork(m.User, m.Role,
            annotateAssigned.GetValueOrDefault(m.User), reviewAssigned.GetValueOrDefault(m.User), holding.GetValueOrDefault(m.User),
            submitted.GetValueOrDefault(m.User).Count, submitted.GetValueOrDefault(m.User).Approved, rework.GetValueOrDefault(m.User), reviewed.GetValueOrDefault(m.User))).ToList();
        return new WorkOverviewDto(counts, leases, people);
    }
}
