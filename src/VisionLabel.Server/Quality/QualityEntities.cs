using VisionLabel.Server.Data;

namespace VisionLabel.Server.Quality;

/// <summary>
/// A ground-truth shape: the reference an image's annotations are scored against. Kept apart from the working
/// annotations (annotators never see it; exports leave it out), imported from a dataset or copied from an approved image.
/// </summary>
public sealed class GroundTruth
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProjectId { get; set; }
    public Guid ImageId { get; set; }
    public Guid LabelId { get; set; }
    public AnnotationKind Kind { get; set; }
    /// <summary>The normalised geometry JSON, as annotations store it.</summary>
    public required string Geometry { get; set; }
    /// <summary>A crowd region (COCO iscrowd): left out of matching and counts.</summary>
    public bool Crowd { get; set; }
    /// <summary>Where it came from: "coco import", "yolo import", "approved annotations".</summary>
    public required string Source { get; set; }
    public required string CreatedBy { get; set; }
    public DateTime CreatedAt { get; set; }
}
