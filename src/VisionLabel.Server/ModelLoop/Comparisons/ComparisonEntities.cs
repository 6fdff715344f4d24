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
    /// <summary>Draws the sample (random, or the pool of a disputed one); not the order of A and B.</summary>
    public int Seed { get; set; }
    /// <summary>A server secret (never sent): which output a judge sees as A is a keyed hash of it, the pair and the judge,
    /// so no one can work the order out, and two judges of one pair may see it either way.</summary>
    public byte[] Secret { get; set; } = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
    /// <summary>The job that runs the models; the comparison is ready when it has completed.</summary>
    public Guid JobId { get; set; }
    /// <summary>When the last chunk narrowed the sample and made the pairs (null before).</summary>
    public DateTime? PairedAt { get; set; }
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
    // Its outputs against the ground truth of the sample's images that have some, counted once when the pairs are made.
    public int TruthImages { get; set; }
    public long Tp { get; set; }
    public long Fp { get; set; }
    public long Fn { get; set; }
    public double IouSum { get; set; }
}

/// <summary>An image of the sample (a disputed sample keeps how much its models disagreed on it).</summary>
public sealed class ComparisonImage
{
    public Guid ComparisonId { get; set; }
    public Guid ImageId { get; set; }
    /// <summary>1 − the mean F1 between each two models' outputs (IoU 0.5, same label); null until the models ran on it.</summary>
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
    /// <summary>The label's name when the model ran (what the judges saw, should the label be renamed or deleted later).</summary>
    public required string Label { get; set; }
    public AnnotationKind Kind { get; set; }
    /// <summary>The normalised geometry JSON, as annotations store it.</summary>
    public required string Geometry { get; set; }
    public double Score { get; set; }
}

/// <summary>Two models' outputs on one image, to be judged (the models in the comparison's order; which one a judge sees as
/// A is drawn per judge: <see cref="ComparisonReports.Shown"/>).</summary>
public sealed class ComparisonPair
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ComparisonId { get; set; }
    public Guid ImageId { get; set; }
    public Guid First { get; set; }
    public Guid Second { get; set; }
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
    /// <summary>The model this judge saw as A, and as B.</summary>
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
