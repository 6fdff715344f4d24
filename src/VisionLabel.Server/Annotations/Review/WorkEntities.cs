namespace VisionLabel.Server.Annotations;

/// <summary>The queues: annotating (with rework), reviewing, and adjudicating consensus images whose annotators
/// disagreed (reviewers). On the wire: "annotate", "review", "adjudicate".</summary>
public enum WorkStage { Annotate, Review, Adjudicate }

/// <summary>The order unassigned work leaves the queue in: upload order, random with the project's seed, or the
/// lowest model confidence first (images pre-labeling has not seen come last). On the wire: "upload", "random", "confidence".</summary>
public enum QueuePriority { Upload, Random, Confidence }

/// <summary>What happened to an image in the workflow. On the wire in kebab case ("auto-approved").</summary>
public enum WorkEventKind { Leased, Released, Submitted, AutoApproved, Approved, Rejected, Reopened, Assigned, Unassigned, Merged }

/// <summary>
/// One step of an image through the workflow, kept for good: the history an image page shows, rework rounds per
/// person, and what turnaround and reviewer analytics are computed from. Subject is the annotator a step is about
/// (the submitter of a rejected image, the assignee of an assignment); Actor is who did it.
/// </summary>
public sealed class WorkEvent
{
    /// <summary>Increasing in the order events are made, even within a millisecond (turnarounds pair a lease, a
    /// submission and the decision after it by id order).</summary>
    public Guid Id { get; set; } = Data.MonotonicGuid.Next();
    public Guid ProjectId { get; set; }
    public Guid ImageId { get; set; }
    public WorkEventKind Kind { get; set; }
    public required string Actor { get; set; }
    public string? Subject { get; set; }
    public WorkStage? Stage { get; set; }
    public string? Reason { get; set; }
    public string? Comment { get; set; }
    /// <summary>The image's rework round when it happened (0 before any rejection).</summary>
    public int Round { get; set; }
    public DateTime At { get; set; }
    /// <summary>The project's guideline version at the time (quality is sliced by it).</summary>
    public string? GuidelineVersion { get; set; }
}

/// <summary>
/// One shape of a submission as the annotator submitted it (their accepted annotations at submit, before a reviewer
/// changes anything): what their quality figures are computed from. Keyed by the submission's WorkEvent.
/// </summary>
public sealed class SubmittedShape
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid SubmissionId { get; set; }
    public Guid ProjectId { get; set; }
    public Guid ImageId { get; set; }
    public required string Annotator { get; set; }
    public Guid AnnotationId { get; set; }
    public Guid LabelId { get; set; }
    public Data.AnnotationKind Kind { get; set; }
    public required string Geometry { get; set; }
}
