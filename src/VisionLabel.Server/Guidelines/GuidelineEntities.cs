namespace VisionLabel.Server.Guidelines;

/// <summary>
/// One published version of a project's labeling guidelines: Markdown (images by URL from the guideline image
/// store), a changelog, and per-label cards. Versions are "major.minor"; a major one must be acknowledged by each
/// person before the queue hands them more work. Every op and annotation records the version it was made under.
/// </summary>
public sealed class Guideline
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProjectId { get; set; }
    public int Major { get; set; }
    public int Minor { get; set; }
    public required string Markdown { get; set; }
    public required string Changelog { get; set; }
    public required string PublishedBy { get; set; }
    public DateTime PublishedAt { get; set; }
    public List<GuidelineCard> Cards { get; set; } = [];

    public string Version => $"{Major}.{Minor}";
}

/// <summary>A label's card in a guideline version: what the label means, and example shapes (annotation ids) of what it is and is not.</summary>
public sealed class GuidelineCard
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid GuidelineId { get; set; }
    public Guid LabelId { get; set; }
    public required string Description { get; set; }
    public List<Guid> Positive { get; set; } = [];
    public List<Guid> Negative { get; set; } = [];
}

/// <summary>That a person read a major version of a project's guidelines.</summary>
public sealed class GuidelineAcknowledgement
{
    public Guid ProjectId { get; set; }
    public required string UserName { get; set; }
    public int Major { get; set; }
    public DateTime AcknowledgedAt { get; set; }
}
