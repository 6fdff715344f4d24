namespace VisionLabel.Server.Data;

// Ids are Guid v7, made by whoever creates the row (server or client). They sort by creation time, need no
// database sequence (so one migration set serves SQLite and PostgreSQL), and let a browser create an
// annotation optimistically with its final id before the server has seen it.

public sealed class Project
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string Name { get; set; }
    public string? Description { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public List<Label> Labels { get; set; } = [];
    /// <summary>Set while the project is archived: kept whole, out of the project list and its queue closed (docs/workflow.md).</summary>
    public DateTime? ArchivedAt { get; set; }

    // The work distribution settings (Annotations/Review/WorkflowSettings.cs has their rules and defaults).
    /// <summary>How long a lease from the queue lasts without a heartbeat.</summary>
    public int LeaseSeconds { get; set; } = Annotations.WorkflowSettings.DefaultLeaseSeconds;
    /// <summary>Share of submissions that go to review, 0..100; the rest are approved on submit.</summary>
    public int ReviewPercent { get; set; } = 100;
    /// <summary>People whose every submission is reviewed, whatever ReviewPercent says (user names).</summary>
    public List<string> FullReviewFor { get; set; } = [];
    public bool AllowSelfReview { get; set; }
    /// <summary>How many images one annotator may take from the unassigned pool (submitted or held); null: no cap.</summary>
    public int? MaxPerAnnotator { get; set; }
    public Annotations.QueuePriority QueuePriority { get; set; }
    /// <summary>The seed of the random priority: the same seed gives the same order.</summary>
    public int QueueSeed { get; set; }
    /// <summary>Set when the seed changed: the queue recomputes the images' shuffle keys before it next hands out work.</summary>
    [System.ComponentModel.DataAnnotations.Schema.NotMapped] public bool ShuffleStale { get; set; }
    /// <summary>The reasons a reviewer picks from when rejecting.</summary>
    public List<string> RejectReasons { get; set; } = [.. Annotations.WorkflowSettings.DefaultRejectReasons];
    /// <summary>Reviewers are told when this many images wait for review (0: never).</summary>
    public int ReviewQueueAlert { get; set; } = Annotations.WorkflowSettings.DefaultReviewQueueAlert;
    // Quality settings (docs/quality.md): honeypots, onboarding and consensus.
    /// <summary>The share (0..100) of an annotator's work that is a honeypot, while unseen ground-truth images remain.</summary>
    public int HoneypotPercent { get; set; }
    /// <summary>Honeypots an annotator completes, at a mean F1 ≥ AgreementThreshold over the last of them, before real work.</summary>
    public int OnboardingImages { get; set; }
    /// <summary>Independent annotators per image (1: no consensus).</summary>
    public int Overlap { get; set; } = 1;
    /// <summary>Consensus: the share of the annotators that must agree on a shape for the merged result to keep it (ceil(N·q) votes).</summary>
    public double Quorum { get; set; } = 0.5;
    /// <summary>The bar: a honeypot passes at F1 ≥ this; an image whose agreement is below it goes to adjudication.</summary>
    public double AgreementThreshold { get; set; } = 0.8;
    /// <summary>Active time: the longest gap between two activity events that still counts as working (docs/analytics.md).</summary>
    public int ActiveTimeCutoffSeconds { get; set; } = Annotations.WorkflowSettings.DefaultActiveTimeCutoffSeconds;
}

public sealed class Label
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProjectId { get; set; }
    public required string Name { get; set; }
    /// <summary>"#rrggbb".</summary>
    public required string Color { get; set; }
    public int Order { get; set; }
    /// <summary>The category id an imported dataset gave this label (COCO category id, YOLO class index), kept so
    /// exports write the same ids back; null for labels made here.</summary>
    public int? ExternalId { get; set; }
    /// <summary>COCO's supercategory, kept from import for export.</summary>
    public string? Supercategory { get; set; }
    /// <summary>The F1 the label's quality figures must reach (0..1); the quality page shows a figure below it in red. Null: none.</summary>
    public double? RequiredF1 { get; set; }
    /// <summary>The key that picks this label in the editor: "1"…"9", "0", then q w t u o d g j n z (Projects/LabelRules.Hotkeys);
    /// unique in the project; null: none.</summary>
    public string? Hotkey { get; set; }
    /// <summary>What each object of this label records besides its shape (values live in <see cref="Annotation.Attributes"/>
    /// under these names; Annotations/Writing/AttributeValues checks them; docs/labels.md).</summary>
    public List<LabelAttribute> Attributes { get; set; } = [];
}

public enum AttributeType { Text, Number, Select, Checkbox }

/// <summary>One attribute a label's objects carry: a text, a number, one of a list (select) or a yes/no (checkbox).</summary>
/// <param name="Options">A select's choices, in order; null for the other types.</param>
/// <param name="Default">The value a new object starts with (the editor fills it; exports write it when an object has none).</param>
public sealed record LabelAttribute(string Name, [property: System.Text.Json.Serialization.JsonRequired] AttributeType Type, IReadOnlyList<string>? Options = null, System.Text.Json.JsonElement? Default = null);

/// <summary>Where an image is in the workflow. New, prelabeled and in-progress are the annotate stage; rejected is
/// rework for the annotator who submitted it (Annotations/Review/WorkflowRules.cs has who moves what).</summary>
public enum ImageStatus { New, Prelabeled, InProgress, Submitted, Approved, Rejected }

public sealed class Image
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProjectId { get; set; }
    /// <summary>Lower-case hex SHA-256 of the file bytes; unique within a project.</summary>
    public required string ContentHash { get; set; }
    public required string FileName { get; set; }
    /// <summary>Displayed width (EXIF orientation applied): the pixel space annotations live in.</summary>
    public int Width { get; set; }
    public int Height { get; set; }
    /// <summary>EXIF orientation 1..8 of the stored file, so decoders need not re-read it.</summary>
    public int Orientation { get; set; } = 1;
    /// <summary>Its Deep Zoom pyramid of tiles is in the blob store (large images and TIFFs, built by a job after upload).</summary>
    public bool Pyramid { get; set; }
    /// <summary>"jpeg", "png" or "webp".</summary>
    public required string Format { get; set; }
    public long SizeBytes { get; set; }
    public required string BlobKey { get; set; }
    public ImageStatus Status { get; set; } = ImageStatus.New;
    /// <summary>The image id an imported COCO dataset gave this image, kept so exports write it back.</summary>
    public long? ExternalId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    // Work distribution (Work/): who it is assigned to per stage, who holds it now, who submitted and reviewed it.
    // People are named by user name, as op authors are.
    public string? AnnotateAssignee { get; set; }
    public string? ReviewAssignee { get; set; }
    /// <summary>Who holds the lease (from the queue, or by opening it to work on); free when null or expired.</summary>
    public string? LeaseHolder { get; set; }
    public Annotations.WorkStage? LeaseStage { get; set; }
    public DateTime? LeaseExpiresAt { get; set; }
    /// <summary>The annotator who submitted it last: a rejection goes back to them.</summary>
    public string? SubmittedBy { get; set; }
    public DateTime? SubmittedAt { get; set; }
    public string? ReviewedBy { get; set; }
    public DateTime? ReviewedAt { get; set; }
    /// <summary>How many times it was rejected.</summary>
    public int ReworkRounds { get; set; }
    /// <summary>The smallest score margin (score − runner-up class score) of the model's proposals when pre-labeling ran (0 when it found nothing); null before.</summary>
    public double? Confidence { get; set; }
    /// <summary>Its place in the random priority (from the project's seed and its id); null until the queue computes it.</summary>
    public long? ShuffleKey { get; set; }

    // Private copies (Quality/Replicas.cs): one annotator's own, independent annotation of another image (a consensus
    // share or a honeypot). A replica is an image row of its own (its own annotations, ops, lease and status), so the
    // editor, the hub and the write path treat it as any image; the context hides replicas from every query that does
    // not ask for them (VisionLabelDb's query filter): lists, counts, exports and queues see the images people upload.
    /// <summary>The image this is a private copy of (same file); null for an ordinary image.</summary>
    public Guid? ReplicaOf { get; set; }
    /// <summary>Set while the image is archived: kept with its annotations and history, out of the grid (unless asked
    /// for), the work queue, exports and the status counts.</summary>
    public DateTime? ArchivedAt { get; set; }
    public ReplicaKind? ReplicaKind { get; set; }
    /// <summary>The annotator whose copy it is: only they (and reviewers, owners) can open it.</summary>
    public string? ReplicaOwner { get; set; }
    /// <summary>A honeypot copy: its F1 against the ground truth, set when it is submitted.</summary>
    public double? ReplicaF1 { get; set; }
    /// <summary>Consensus (on the image the copies are of): the mean pairwise F1 of its copies, once all are in.</summary>
    public double? Agreement { get; set; }
    /// <summary>The file's 64-bit perceptual hash (Imaging.PerceptualHash, stored as its bits), for near-duplicates; null until dataset health computes it.</summary>
    public long? PerceptualHash { get; set; }
    /// <summary>Consensus: the agreement was below the project's threshold, so a reviewer adjudicates it (the "adjudicate" queue).</summary>
    public bool NeedsAdjudication { get; set; }
}

/// <summary>Why a private copy exists: a consensus share of an image, or a honeypot (a ground-truth image in disguise).</summary>
public enum ReplicaKind { Consensus, Honeypot }

public enum AnnotationKind { Box, Polygon, Mask }
public enum AnnotationSourceType { Human, Model }
public enum AnnotationState { Proposed, Accepted, Rejected }

public sealed class Annotation
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ImageId { get; set; }
    public Guid LabelId { get; set; }
    public AnnotationKind Kind { get; set; }
    /// <summary>Normalised JSON for the kind: box {x,y,width,height}, polygon {rings}, mask {size,counts} (COCO RLE).</summary>
    public required string Geometry { get; set; }
    /// <summary>JSON object of free-form attributes.</summary>
    public string Attributes { get; set; } = "{}";
    public AnnotationSourceType Source { get; set; }
    public string? ModelId { get; set; }
    public double? Score { get; set; }
    public AnnotationState State { get; set; }
    /// <summary>Bumped by every change; writers send the version they saw and get a 409 if it moved.</summary>
    public int Version { get; set; } = 1;
    public required string CreatedBy { get; set; }
    public DateTime CreatedAt { get; set; }
    public required string UpdatedBy { get; set; }
    public DateTime UpdatedAt { get; set; }
    /// <summary>The project's guideline version ("major.minor") when it was last changed; null before any was published.</summary>
    public string? GuidelineVersion { get; set; }
}

/// <summary>An uploaded ONNX model and what inspection found in it. The file lives in the blob store.</summary>
public sealed class DetectionModel
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public required string Name { get; set; }
    public required string FileName { get; set; }
    public required string ContentHash { get; set; }
    public long SizeBytes { get; set; }
    public required string BlobKey { get; set; }
    /// <summary>"ultralytics" or "yolox".</summary>
    public required string Family { get; set; }
    /// <summary>"detect" or "segment".</summary>
    public required string Task { get; set; }
    public int InputWidth { get; set; }
    public int InputHeight { get; set; }
    /// <summary>Fixed batch of the graph; null when the batch dimension is dynamic.</summary>
    public int? FixedBatch { get; set; }
    /// <summary>JSON array of class names, index = class id.</summary>
    public required string ClassNames { get; set; }
    public required string ClassNamesSource { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>Which project label each of a model's classes becomes (JSON object: class index → label id or null to skip).</summary>
public sealed class ProjectModelMapping
{
    public Guid ProjectId { get; set; }
    public Guid ModelId { get; set; }
    public required string Mapping { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>Queued: waiting (or backing off before a retry). Running: a worker has started it. Completed: every item
/// processed (some may have failed). Cancelled: stopped on request. Dead: gave up after MaxAttempts.</summary>
public enum JobStatus { Queued, Running, Completed, Cancelled, Dead }

/// <summary>
/// What a user sees of a background job: parameters, progress, errors, cancel. Hangfire runs it (claiming, retries,
/// takeover of a dead worker's work); this row and the job's items keep what was done, so a job run again resumes
/// from its pending items and nothing is written twice.
/// </summary>
public sealed class Job
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    /// <summary>"prelabel".</summary>
    public required string Kind { get; set; }
    public Guid ProjectId { get; set; }
    public JobStatus Status { get; set; } = JobStatus.Queued;
    /// <summary>JSON of the job's parameters, fixed when it was enqueued.</summary>
    public required string Payload { get; set; }
    public int Total { get; set; }
    public int Done { get; set; }
    public int Failed { get; set; }
    public int Attempts { get; set; }
    public int MaxAttempts { get; set; } = 3;
    public string? LastError { get; set; }
    public bool CancelRequested { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    /// <summary>How many Hangfire jobs it was split into; 0 until they are enqueued (start-up enqueues any left at 0).</summary>
    public int Chunks { get; set; }
    /// <summary>What a finished job reports, as JSON (an import's report); null until then and for kinds that report nothing.</summary>
    public string? Result { get; set; }
}

public enum JobItemStatus { Pending, Done, Failed }

/// <summary>One image of a job. Its status changes in the same transaction as the job's writes for that image.</summary>
public sealed class JobItem
{
    public Guid JobId { get; set; }
    public Guid ImageId { get; set; }
    public JobItemStatus Status { get; set; } = JobItemStatus.Pending;
    public string? Error { get; set; }
    public DateTime? FinishedAt { get; set; }
}

/// <summary>What an op does to its annotation. On the wire and in the database: "create", "update", "delete".</summary>
public enum OpType { Create, Update, Delete }

public static class OpTypes
{
    public static string Name(OpType type) => type switch { OpType.Create => "create", OpType.Update => "update", _ => "delete" };

    public static OpType Parse(string name) => name switch
    {
        "create" => OpType.Create, "update" => OpType.Update, "delete" => OpType.Delete,
        _ => throw new FormatException($"'{name}' is not an op type (create, update, delete)"),
    };
}

/// <summary>
/// One applied change to an image's annotations, in server order. Seq is gapless per image; (ImageId, AuthorId,
/// ClientOpId) is unique, which makes a resubmitted op a no-op. Changes holds what the op set, normalised.
/// </summary>
public sealed class AnnotationOp
{
    public Guid ImageId { get; set; }
    public long Seq { get; set; }
    public required string ClientOpId { get; set; }
    public required string AuthorId { get; set; }
    /// <summary>Stored as its lower-case name ("create", "update", "delete"), as on the wire.</summary>
    public required OpType Type { get; set; }
    public Guid AnnotationId { get; set; }
    public required string Changes { get; set; }
    /// <summary>The op that would undo this one (type and changes as JSON), computed when it was applied.</summary>
    public string? Inverse { get; set; }
    /// <summary>Set on an undo: the seq of the op it undid. Set on a redo: the seq of the undo it reverted.</summary>
    public long? UndoOf { get; set; }
    public long? RedoOf { get; set; }
    /// <summary>The author's undo and redo stack tops after this op, and the element below the one this op pushed
    /// (see Annotations/Writing/UndoStacks): undo reads two rows instead of the author's whole history.</summary>
    public long? UndoTop { get; set; }
    public long? RedoTop { get; set; }
    public long? Below { get; set; }
    public DateTime AppliedAt { get; set; }
    /// <summary>The project's guideline version ("major.minor") the op was made under; null before any was published.</summary>
    public string? GuidelineVersion { get; set; }
}

/// <summary>A review comment pinned to a point of an image.</summary>
public sealed class Comment
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ImageId { get; set; }
    public double X { get; set; }
    public double Y { get; set; }
    public required string Text { get; set; }
    public required string Author { get; set; }
    /// <summary>The thread this comment answers (its first comment, whose pin it shares); null for a thread's first.</summary>
    public Guid? ParentId { get; set; }
    public bool Resolved { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
