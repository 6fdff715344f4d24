using VisionLabel.Server.Data;

namespace VisionLabel.Server.ModelLoop;

/// <summary>How a comparison's images were drawn: at random, or the ones its models disagree on most.</summary>
public enum ComparisonSampling { Random, Disputed }

/// <summary>
/// A comparison of two or more models on a sample of a project's images (docs/models-in-the-loop.md). Its job runs
/// each model on the sample (<see cref="ComparisonJob"/>), then reviewers judge pairs of outputs blinded.
/// </summary>
public sealed class Comparison
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProjectId { get; set; }
    public required string Name { get; set; }
    public ComparisonSampling Sampling { get; set; }
    public int SampleSize { get; set; }
    public float Confidence { get; set; }
    public int Seed { get; set; }
    /// <summary>The job that runs the models; the comparison is ready when it has completed.</summary>
    public Guid JobId { get; set; }
    public required string CreatedBy { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A model in a comparison, its name kept as it was (the model may be deleted later; the judgements stay).</summary>
public sealed class ComparisonModel
{
    public Guid ComparisonId { get; set; }
    public Guid ModelId { get; set; }
    public required string Name { get; set; }
    public int Position { get; set; }
}

/// <summary>An image of the sample (a disputed sample keeps how much its models disagreed on it).</summary>
public sealed class ComparisonImage
{
    public Guid ComparisonId { get; set; }
    public Guid ImageId { get; set; }
    /// <summary>1 − the mean F1 between each two models' outputs (IoU 0.5, same label); null in a random sample.</summary>
    public double? Disagreement { get; set; }
}

/// <summary>One shape a model output on a sample image, mapped to a project label (classes without one are left out, as pre-labeling does).</summary>
public sealed class ComparisonOutput
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ComparisonId { get; set; }
    public Guid ImageId { get; set; }
    public Guid ModelId { get; set; }
    public Guid LabelId { get; set; }
    public AnnotationKind Kind { get; set; }
    /// <summary>The normalised geometry JSON, as annotations store it.</summary>
    public required string Geometry { get; set; }
    public double Score { get; set; }
}

/// <summary>Two models' outputs on one image, to be judged: model A is shown first (left, "A"), the order drawn at random when the pair was made.</summary>
public sealed class ComparisonPair
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ComparisonId { get; set; }
    public Guid ImageId { get; set; }
    public Guid ModelA { get; set; }
    public Guid ModelB { get; set; }
    /// <summary>Where it comes in the judging order (random, so a judge sees images and models mixed).</summary>
    public int Order { get; set; }
}

/// <summary>Why an output lost (or why both are bad): the reason tags a judge may give.</summary>
[Flags]
public enum JudgementReasons { None = 0, MissedObjects = 1, FalsePositives = 2, LooseBoxes = 4, WrongLabels = 8 }

/// <summary>One judge's choice on one pair (each judge judges a pair once).</summary>
public sealed class Judgement
{
    public Guid Id { get; set; } = MonotonicGuid.Next();
    public Guid ComparisonId { get; set; }
    public Guid PairId { get; set; }
    public Guid ImageId { get; set; }
    public Guid ModelA { get; set; }
    public Guid ModelB { get; set; }
    public Preference Choice { get; set; }
    public JudgementReasons Reasons { get; set; }
    /// <summary>The judge's user name, as op authors are named.</summary>
    public required string Judge { get; set; }
    /// <summary>The project's guideline version when judged (null before the first).</summary>
    public string? GuidelineVersion { get; set; }
    public DateTime At { get; set; }
}
