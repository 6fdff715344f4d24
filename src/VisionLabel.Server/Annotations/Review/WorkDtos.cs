using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// An image's place in the workflow: its stage ("annotate", "submitted", "in-review", "approved", "rejected", "rework"),
/// status, who holds its lease and until when, its assignees, who submitted and reviewed it, its rework rounds, and
/// the last rejection (reason and comment) while it is rework.
/// </summary>
public sealed record WorkStateDto(Guid ImageId, Guid ProjectId, string Stage, ImageStatus Status, string? LeaseHolder, WorkStage? LeaseStage,
    DateTime? LeaseExpiresAt, string? AnnotateAssignee, string? ReviewAssignee, string? SubmittedBy, DateTime? SubmittedAt, string? ReviewedBy,
    DateTime? ReviewedAt, int ReworkRounds, WorkEventDto? LastRejection, SubmissionFeedback? Feedback = null)
{
    public static WorkStateDto From(Image i, DateTime now, WorkEvent? lastRejection = null)
    {
        var s = WorkState.Of(i);
        bool leased = s.ActiveHolder(now) is not null;
        return new(i.Id, i.ProjectId, WorkflowRules.StageName(s, now), i.Status, leased ? i.LeaseHolder : null, leased ? i.LeaseStage : null,
            leased ? i.LeaseExpiresAt : null, i.AnnotateAssignee, i.ReviewAssignee, i.SubmittedBy, i.SubmittedAt, i.ReviewedBy, i.ReviewedAt, i.ReworkRounds,
            i.Status == ImageStatus.Rejected && lastRejection is not null ? WorkEventDto.From(lastRejection) : null);
    }
}

/// <summary>
/// What the submitter of a honeypot learns at once (docs/quality.md): their F1 against the ground truth, the project's
/// bar, and hints by label and count ("missed 2 × car", "confused car/truck × 1"), never a position or a shape of the truth.
/// </summary>
public sealed record SubmissionFeedback(double F1, double Threshold, bool Passed, IReadOnlyList<string> Hints);

public sealed record WorkEventDto(Guid Id, Guid ImageId, WorkEventKind Kind, string Actor, string? Subject, WorkStage? Stage, string? Reason, string? Comment, int Round, DateTime At)
{
    public static WorkEventDto From(WorkEvent e) => new(e.Id, e.ImageId, e.Kind, e.Actor, e.Subject, e.Stage, e.Reason, e.Comment, e.Round, e.At);
}

/// <summary>GET /api/images/{id}/work: the state and the image's workflow history (newest last).</summary>
public sealed record ImageWorkDto(WorkStateDto State, IReadOnlyList<WorkEventDto> History);

/// <summary>POST /api/images/{id}/reject: one of the project's reasons, and an optional comment for the annotator.</summary>
public sealed record RejectRequest(
    [property: System.ComponentModel.DataAnnotations.StringLength(WorkflowSettings.MaxReasonLength)] string? Reason = null,
    [property: System.ComponentModel.DataAnnotations.StringLength(5000)] string? Comment = null);
