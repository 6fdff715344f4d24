using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Notifications;

namespace VisionLabel.Server.Work;

/// <summary>PUT …/assignments: these images to this person for a stage (assignee null: unassign them).</summary>
public sealed record AssignRequest(WorkStage Stage, [property: MaxLength(Assignments.MaxImages)] IReadOnlyList<Guid> ImageIds, [property: MaxLength(256)] string? Assignee);

/// <summary>POST …/assignments/distribute: the next <c>count</c> unassigned images of the stage, in the project's priority, spread evenly over these people.</summary>
public sealed record DistributeRequest(WorkStage Stage, int Count, [property: MaxLength(WorkflowSettings.MaxPeople)] IReadOnlyList<string> People);

/// <summary>How many images each person was given, and how many asked for found nobody (caps reached, or nothing left).</summary>
public sealed record AssignmentResult(IReadOnlyDictionary<string, int> Assigned, int Unassigned);

/// <summary>Owners hand out work: one by one, or "distribute N evenly among these people", honouring the per-annotator cap.</summary>
public sealed class Assignments(VisionLabelDb db, Notifier notifier, WorkQueue queue)
{
    public const int MaxImages = 10_000;

    /// <summary>The least role each stage's assignee needs.</summary>
    public static ProjectRole RoleFor(WorkStage stage) => stage == WorkStage.Review ? ProjectRole.Reviewer : ProjectRole.Annotator;

    /// <summary>The project's members by user name with their roles.</summary>
    public async Task<Dictionary<string, ProjectRole>> MembersAsync(Guid projectId, CancellationToken ct) =>
        await db.ProjectMembers.AsNoTracking().Where(m => m.ProjectId == projectId)
            .Join(db.Users, m => m.UserId, u => u.Id, (m, u) => new { u.UserName, m.Role })
            .ToDictionaryAsync(x => x.UserName!, x => x.Role, StringComparer.Ordinal, ct);

    /// <summary>Why this person cannot take the stage's work, or null.</summary>
    public static string? PersonProblem(string person, WorkStage stage, IReadOnlyDictionary<string, ProjectRole> members) =>
        !members.TryGetValue(person, out var role) ? $"'{person}' is not a member of this project; add them first"
        : role < RoleFor(stage) ? $"'{person}' is {role.ToString().ToLowerInvariant()}; {Common.ApiEnum.Name(stage)} work needs the {RoleFor(stage).ToString().ToLowerInvariant()} role"
        : null;

    public async Task<(AssignmentResult? Result, string? Field, string? Problem)> AssignAsync(Guid projectId, AssignRequest request, string by, CancellationToken ct)
    {
        if (request.ImageIds.Count == 0) return (null, "imageIds", "name at least one image");
        if (request.Assignee is { } person && PersonProblem(person, request.Stage, await MembersAsync(projectId, ct)) is { } problem) return (null, "assignee", problem);
        var ids = request.ImageIds.Distinct().ToList();
        int found = 0;
        foreach (var chunk in ids.Chunk(500))
            found += await db.Images.CountAsync(i => i.ProjectId == projectId && chunk.Contains(i.Id), ct);
        if (found != ids.Count) return (null, "imageIds", $"{ids.Count - found} of the images are not in this project");
        if (request.Stage == WorkStage.Review && request.Assignee is { } reviewer &&
            !await db.Projects.Where(p => p.Id == projectId).Select(p => p.AllowSelfReview).FirstAsync(ct))
            foreach (var chunk in ids.Chunk(500))
                if (await db.Images.AnyAsync(i => chunk.Contains(i.Id) && i.SubmittedBy == reviewer, ct))
                    return (null, "assignee", $"'{reviewer}' submitted some of these images, and nobody reviews their own work here (workflow.allowSelfReview)");
        foreach (var chunk in ids.Chunk(500))
        {
            var images = db.Images.Where(i => i.ProjectId == projectId && chunk.Contains(i.Id));
            if (request.Stage == WorkStage.Annotate) await images.ExecuteUpdateAsync(u => u.SetProperty(i => i.AnnotateAssignee, request.Assignee), ct);
            else await images.ExecuteUpdateAsync(u => u.SetProperty(i => i.ReviewAssignee, request.Assignee), ct);
        }
        await RecordAsync(projectId, ids, request.Stage, request.Assignee, by);
        var assigned = request.Assignee is null ? new Dictionary<string, int>() : new Dictionary<string, int> { [request.Assignee] = ids.Count };
        await NotifyAsync(projectId, request.Stage, assigned, by);
        return (new AssignmentResult(assigned, request.Assignee is null ? ids.Count : 0), null, null);
    }

    public async Task<(AssignmentResult? Result, string? Field, string? Problem)> DistributeAsync(Project project, DistributeRequest request, string by, CancellationToken ct)
    {
        if (request.Count is < 1 or > MaxImages) return (null, "count", $"must be between 1 and {MaxImages}, not {request.Count}");
        var people = request.People.Select(p => p?.Trim() ?? "").Distinct().ToList();
        if (people.Count == 0) return (null, "people", "name at least one person");
        var members = await MembersAsync(project.Id, ct);
        foreach (var p in people) if (PersonProblem(p, request.Stage, members) is { } problem) return (null, "people", problem);

        // What each person has now, against the cap (annotating: assigned and not yet submitted, plus submitted).
        var load = people.ToDictionary(p => p, _ => 0);
        if (request.Stage == WorkStage.Annotate && project.MaxPerAnnotator is not null)
            foreach (var p in people)
                load[p] = await db.Images.CountAsync(i => i.ProjectId == project.Id && (i.SubmittedBy == p ||
                    (i.AnnotateAssignee == p && (i.Status == ImageStatus.New || i.Status == ImageStatus.Prelabeled || i.Status == ImageStatus.InProgress))), ct);

        if (project.QueuePriority == QueuePriority.Random) await queue.EnsureShuffledAsync(project, ct);
        var candidates = db.Images.Where(i => i.ProjectId == project.Id && i.ArchivedAt == null); // archived images are out of the work
        candidates = request.Stage == WorkStage.Annotate
            ? candidates.Where(i => i.AnnotateAssignee == null && (i.Status == ImageStatus.New || i.Status == ImageStatus.Prelabeled || i.Status == ImageStatus.InProgress))
            : candidates.Where(i => i.ReviewAssignee == null && i.Status == ImageStatus.Submitted);
        candidates = project.QueuePriority switch
        {
            QueuePriority.Random => candidates.OrderBy(i => i.ShuffleKey).ThenBy(i => i.Id),
            QueuePriority.Confidence => candidates.OrderBy(i => i.Confidence == null).ThenBy(i => i.Confidence).ThenBy(i => i.Id),
            _ => candidates.OrderBy(i => i.Id),
        };
        var images = await candidates.Select(i => new { i.Id, i.SubmittedBy }).Take(request.Count).ToListAsync(ct);

        var given = people.ToDictionary(p => p, _ => new List<Guid>());
        int next = 0, left = 0;
        foreach (var image in images)
        {
            // Round robin over the people who can still take one (under the cap; for review, not the image's submitter).
            string? to = null;
            for (int k = 0; k < people.Count && to is null; k++)
            {
                var p = people[(next + k) % people.Count];
                bool capped = request.Stage == WorkStage.Annotate && project.MaxPerAnnotator is { } cap && load[p] + given[p].Count >= cap;
                bool own = request.Stage == WorkStage.Review && !project.AllowSelfReview && image.SubmittedBy == p;
                if (!capped && !own) { to = p; next = (next + k + 1) % people.Count; }
            }
            if (to is null) { left++; continue; }
            given[to].Add(image.Id);
        }
        left += request.Count - images.Count;
        foreach (var (p, ids) in given)
            foreach (var chunk in ids.Chunk(500))
            {
                var rows = db.Images.Where(i => chunk.Contains(i.Id));
                // Still unassigned (another owner may have assigned them meanwhile): never take one from someone.
                if (request.Stage == WorkStage.Annotate) await rows.Where(i => i.AnnotateAssignee == null).ExecuteUpdateAsync(u => u.SetProperty(i => i.AnnotateAssignee, p), ct);
                else await rows.Where(i => i.ReviewAssignee == null).ExecuteUpdateAsync(u => u.SetProperty(i => i.ReviewAssignee, p), ct);
            }
        foreach (var (p, ids) in given) if (ids.Count > 0) await RecordAsync(project.Id, ids, request.Stage, p, by);
        var counts = given.ToDictionary(g => g.Key, g => g.Value.Count);
        await NotifyAsync(project.Id, request.Stage, counts, by);
        return (new AssignmentResult(counts, left), null, null);
    }

    private async Task RecordAsync(Guid projectId, IReadOnlyList<Guid> ids, WorkStage stage, string? assignee, string by)
    {
        var now = DateTime.UtcNow;
        foreach (var chunk in ids.Chunk(1000))
        {
            db.WorkEvents.AddRange(chunk.Select(id => new WorkEvent
            {
                ProjectId = projectId, ImageId = id, Kind = assignee is null ? WorkEventKind.Unassigned : WorkEventKind.Assigned, Actor = by, Subject = assignee, Stage = stage, At = now,
            }));
            await db.SaveChangesAsync(CancellationToken.None);
            db.ChangeTracker.Clear();
        }
    }

    private async Task NotifyAsync(Guid projectId, WorkStage stage, IReadOnlyDictionary<string, int> assigned, string by)
    {
        string project = await db.Projects.Where(p => p.Id == projectId).Select(p => p.Name).FirstAsync();
        foreach (var (person, count) in assigned.Where(a => a.Value > 0))
            await notifier.NotifyAsync([person], NotificationKind.Assigned, projectId, null,
                $"{by} assigned you {count} image{(count == 1 ? "" : "s")} to {(stage == WorkStage.Review ? "review" : "annotate")} in {project}.", except: by);
    }
}
