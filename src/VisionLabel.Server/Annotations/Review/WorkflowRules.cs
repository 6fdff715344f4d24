using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>A workflow transition a person asks for. On the wire: "submit", "approve", "reject", "reopen".</summary>
public enum WorkAction { Submit, Approve, Reject, Reopen }

/// <summary>Who asks: their user name and their role in the image's project.</summary>
public readonly record struct Actor(string Name, ProjectRole Role);

/// <summary>The workflow fields of one image, as the rules see them.</summary>
public sealed record WorkState(ImageStatus Status, string? AnnotateAssignee, string? ReviewAssignee, string? LeaseHolder, WorkStage? LeaseStage,
    DateTime? LeaseExpiresAt, string? SubmittedBy, DateTime? SubmittedAt, string? ReviewedBy, DateTime? ReviewedAt, int ReworkRounds)
{
    public static WorkState Of(Image i) => new(i.Status, i.AnnotateAssignee, i.ReviewAssignee, i.LeaseHolder, i.LeaseStage, i.LeaseExpiresAt,
        i.SubmittedBy, i.SubmittedAt, i.ReviewedBy, i.ReviewedAt, i.ReworkRounds);

    /// <summary>Who holds the lease now (null when it is free or has expired).</summary>
    public string? ActiveHolder(DateTime now) => LeaseHolder is not null && LeaseExpiresAt > now ? LeaseHolder : null;

    public WorkState WithoutLease => this with { LeaseHolder = null, LeaseStage = null, LeaseExpiresAt = null };
}

/// <summary>A transition the rules allowed: the image's new state and the event to record (a rejection's reason as the project spells it).</summary>
public sealed record WorkDecision(WorkState State, WorkEventKind Event, string? Subject, string? Reason = null);

/// <summary>A transition the rules refused: the HTTP status (400, 403, 409), a title, and a detail that says the image's
/// stage and what would allow the change; Field names the request field at fault, for a 400.</summary>
public sealed record WorkRefusal(int StatusCode, string Title, string Detail, string? Field = null);

/// <summary>
/// Who may move an image through the workflow, in one place, as a pure decision (like AnnotationAggregate.Decide):
/// annotate → submitted → (in review) → approved | rejected → rework → submitted …
/// <list type="bullet">
/// <item>submit: the annotator working on it (the lease holder), or its assignee; for a rejected image, the annotator
/// who submitted it; owners always. A submission goes to review, or (outside the review sample) is approved at once.</item>
/// <item>approve, reject: reviewers, never on work they submitted unless the project allows self-review; not while
/// another reviewer holds it. A rejection names one of the project's reasons.</item>
/// <item>reopen (approved or submitted → annotate): owners.</item>
/// </list>
/// Edits: submitted images are read-only below the reviewer role, approved ones for everyone (<see cref="ImageStatusRules.EditProblem"/>).
/// </summary>
public static class WorkflowRules
{
    /// <summary>The stage name people see: "annotate", "submitted", "in-review", "approved", "rejected", "rework".</summary>
    public static string StageName(WorkState s, DateTime now) => s.Status switch
    {
        ImageStatus.Submitted => s.ActiveHolder(now) is not null ? "in-review" : "submitted",
        ImageStatus.Approved => "approved",
        ImageStatus.Rejected => s.ActiveHolder(now) is not null ? "rework" : "rejected",
        _ => "annotate",
    };

    /// <summary>The queue an image is waiting in, if any.</summary>
    public static WorkStage? QueueOf(ImageStatus status) => status switch
    {
        ImageStatus.Submitted => WorkStage.Review,
        ImageStatus.Approved => null,
        _ => WorkStage.Annotate,
    };

    public static (WorkDecision? Decision, WorkRefusal? Refusal) Decide(WorkState s, WorkAction action, Actor actor, DateTime now,
        bool needsReview = true, bool allowSelfReview = false, string? reason = null, IReadOnlyList<string>? reasons = null) => action switch
    {
        WorkAction.Submit => Submit(s, actor, now, needsReview),
        WorkAction.Approve or WorkAction.Reject => Review(s, action, actor, now, allowSelfReview, reason, reasons ?? []),
        WorkAction.Reopen => Reopen(s, actor, now),
        _ => throw new ArgumentOutOfRangeException(nameof(action)),
    };

    private static (WorkDecision?, WorkRefusal?) Submit(WorkState s, Actor actor, DateTime now, bool needsReview)
    {
        if (s.Status == ImageStatus.Submitted)
            return Refuse(409, "Already submitted", "The image is submitted and waits for review; a reviewer approves or rejects it.");
        if (s.Status == ImageStatus.Approved)
            return Refuse(409, "Already approved", "The image is approved; an owner can reopen it (POST /api/images/{id}/reopen) for more work.");
        bool owner = actor.Role >= ProjectRole.Owner;
        string? holder = s.ActiveHolder(now);
        if (!owner && holder is not null && holder != actor.Name)
            return Refuse(409, $"Leased by {holder}",
                $"{holder} is working on this image (their lease runs until {s.LeaseExpiresAt:u}); they submit it, or an owner releases the lease.");
        if (!owner && holder != actor.Name)
        {
            if (s.Status == ImageStatus.Rejected && s.AnnotateAssignee is { } reworker && reworker != actor.Name)
                return Refuse(403, $"Rework for {reworker}", $"The image was rejected and its rework is assigned to {reworker}; they resubmit it (an owner can reassign it).");
            if (s.Status == ImageStatus.Rejected && s.AnnotateAssignee is null && s.SubmittedBy is { } author && author != actor.Name)
                return Refuse(403, $"Rework for {author}", $"The image was rejected and is rework for {author}, who submitted it; they resubmit it (an owner can reassign it)."); 
            if (s.AnnotateAssignee is { } assignee && assignee != actor.Name && s.Status != ImageStatus.Rejected)
                return Refuse(403, $"Assigned to {assignee}", $"The image is assigned to {assignee} for annotation; they submit it (an owner can reassign it).");
        }
        var next = s.WithoutLease with
        {
            Status = needsReview ? ImageStatus.Submitted : ImageStatus.Approved, SubmittedBy = actor.Name, SubmittedAt = now,
            ReviewedBy = null, ReviewedAt = needsReview ? null : now,
        };
        return (new WorkDecision(next, needsReview ? WorkEventKind.Submitted : WorkEventKind.AutoApproved, actor.Name), null);
    }

    private static (WorkDecision?, WorkRefusal?) Review(WorkState s, WorkAction action, Actor actor, DateTime now, bool allowSelfReview, string? reason, IReadOnlyList<string> reasons)
    {
        string verb = action == WorkAction.Approve ? "approving" : "rejecting";
        if (actor.Role < ProjectRole.Reviewer)
            return Refuse(403, "Reviewer role required", $"{Capital(verb)} needs the reviewer role in this project; you are {RoleName(actor.Role)}.");
        if (s.Status != ImageStatus.Submitted)
            return Refuse(409, "Not waiting for review",
                $"The image is '{StageName(s, now)}'; only submitted images are approved or rejected." + (s.Status == ImageStatus.Approved ? " An owner can reopen it." : ""));
        if (s.SubmittedBy == actor.Name && !allowSelfReview)
            return Refuse(403, "Own work", $"You submitted this image, and reviewers never review their own work here; another reviewer does, or an owner allows self-review (workflow.allowSelfReview).");
        if (s.ActiveHolder(now) is { } holder && holder != actor.Name)
            return Refuse(409, $"Under review by {holder}", $"{holder} is reviewing this image (their lease runs until {s.LeaseExpiresAt:u}); wait for them, or an owner releases the lease.");
        if (action == WorkAction.Approve)
            return (new WorkDecision(s.WithoutLease with { Status = ImageStatus.Approved, ReviewedBy = actor.Name, ReviewedAt = now }, WorkEventKind.Approved, s.SubmittedBy), null);
        if (string.IsNullOrWhiteSpace(reason))
            return Refuse(400, "Reason required", $"A rejection names its reason, one of: {string.Join(", ", reasons.Select(r => $"'{r}'"))}.", "reason");
        if (reasons.FirstOrDefault(r => string.Equals(r, reason.Trim(), StringComparison.OrdinalIgnoreCase)) is not { } canonical)
            return Refuse(400, "Unknown reason", $"'{reason}' is not one of this project's reasons: {string.Join(", ", reasons.Select(r => $"'{r}'"))}.", "reason");
        var rejected = s.WithoutLease with { Status = ImageStatus.Rejected, ReviewedBy = actor.Name, ReviewedAt = now, ReworkRounds = s.ReworkRounds + 1 };
        return (new WorkDecision(rejected, WorkEventKind.Rejected, s.SubmittedBy, canonical), null);
    }

    private static (WorkDecision?, WorkRefusal?) Reopen(WorkState s, Actor actor, DateTime now)
    {
        if (actor.Role < ProjectRole.Owner)
            return Refuse(403, "Owner role required", $"Reopening an image needs the owner role in this project; you are {RoleName(actor.Role)}.");
        if (s.Status is not (ImageStatus.Approved or ImageStatus.Submitted))
            return Refuse(409, "Nothing to reopen", $"The image is '{StageName(s, now)}'; only approved or submitted images are reopened.");
        // Back to the annotate stage, for whoever submitted it unless someone else is assigned.
        var next = s.WithoutLease with { Status = ImageStatus.InProgress, AnnotateAssignee = s.AnnotateAssignee ?? s.SubmittedBy, ReviewedBy = null, ReviewedAt = null };
        return (new WorkDecision(next, WorkEventKind.Reopened, s.SubmittedBy), null);
    }

    /// <summary>Whether a submission goes to review: always at 100%, for the people named for full review, and otherwise
    /// for a fixed share of (image, round) pairs, the same on every process.</summary>
    public static bool NeedsReview(Guid imageId, int round, string submitter, int reviewPercent, IReadOnlyList<string> fullReviewFor)
    {
        if (reviewPercent >= 100 || fullReviewFor.Contains(submitter)) return true;
        if (reviewPercent <= 0) return false;
        return SampleBucket(imageId, round) < reviewPercent;
    }

    /// <summary>0..99, uniform over images: FNV-1a of the id's bytes and the round.</summary>
    public static int SampleBucket(Guid imageId, int round)
    {
        Span<byte> bytes = stackalloc byte[16];
        imageId.TryWriteBytes(bytes);
        ulong h = 14695981039346656037;
        foreach (var b in bytes) h = (h ^ b) * 1099511628211;
        h = (h ^ (ulong)round) * 1099511628211;
        return (int)(h % 100);
    }

    private static (WorkDecision?, WorkRefusal?) Refuse(int status, string title, string detail, string? field = null) => (null, new WorkRefusal(status, title, detail, field));
    private static string RoleName(ProjectRole role) => role.ToString().ToLowerInvariant();
    private static string Capital(string s) => char.ToUpperInvariant(s[0]) + s[1..];
}
