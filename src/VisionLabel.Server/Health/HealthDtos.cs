namespace VisionLabel.Server.Health;

/// <summary>POST /api/projects/{id}/health: the export split to check for leaks (val share and seed, as the export takes
/// them) and how many bits two images' perceptual hashes may differ by to count as near-duplicates.</summary>
public sealed record HealthRequest(double? Val = null, int? Seed = null, int? MaxDistance = null);

public sealed record HealthPayload(Guid ProjectId, double Val, int Seed, int MaxDistance);

public sealed record ClassCount(Guid LabelId, string Label, string Split, long Count);
public sealed record ObjectsPerImage(int Objects, int Images);
public sealed record NearDuplicate(Guid ImageA, Guid ImageB, int Distance);
public sealed record Leak(Guid ImageA, Guid ImageB, int Distance, string SplitA, string SplitB);
public sealed record BoxOutlier(Guid AnnotationId, Guid ImageId, Guid LabelId, string Label, double Width, double Height, double AreaZ, double AspectZ);
/// <summary>Where a label's objects sit: their centres counted on a Size×Size grid over the image (row-major, normalised coordinates).</summary>
public sealed record Heatmap(Guid LabelId, string Label, int Size, IReadOnlyList<int> Counts);
public sealed record ImageSize(int Width, int Height, int Images);

/// <summary>A finished health run's figures (docs/analytics.md, dataset health).</summary>
public sealed record HealthResult(DateTime ComputedAt, double Val, int Seed, int MaxDistance, int Images, long Annotations, int Unhashed,
    IReadOnlyList<ClassCount> ClassCounts, int ApprovedEmpty, int NeverReviewed, IReadOnlyList<ObjectsPerImage> ObjectsPerImage,
    IReadOnlyList<BoxOutlier> BoxOutliers, IReadOnlyList<Heatmap> Heatmaps, IReadOnlyList<ImageSize> ImageSizes,
    IReadOnlyList<NearDuplicate> NearDuplicates, IReadOnlyList<Leak> Leaks);

/// <summary>GET /api/projects/{id}/health: status "running" (a run is queued or under way; the fields keep the last
/// finished result, if any), "done", or "none" (never run); lastError when the latest run failed; then the last result's
/// figures (empty when there is none).</summary>
public sealed record HealthDto(string Status, Guid? JobId, string? LastError, DateTime? ComputedAt, double? Val, int? Seed, int? MaxDistance,
    int Images, long Annotations, int Unhashed, IReadOnlyList<ClassCount> ClassCounts, int ApprovedEmpty, int NeverReviewed,
    IReadOnlyList<ObjectsPerImage> ObjectsPerImage, IReadOnlyList<BoxOutlier> BoxOutliers, IReadOnlyList<Heatmap> Heatmaps,
    IReadOnlyList<ImageSize> ImageSizes, IReadOnlyList<NearDuplicate> NearDuplicates, IReadOnlyList<Leak> Leaks)
{
    public static HealthDto From(string status, Guid? jobId, string? lastError, HealthResult? r) => r is null
        ? new(status, jobId, lastError, null, null, null, null, 0, 0, 0, [], 0, 0, [], [], [], [], [], [])
        : new(status, jobId, lastError, r.ComputedAt, r.Val, r.Seed, r.MaxDistance, r.Images, r.Annotations, r.Unhashed, r.ClassCounts, r.ApprovedEmpty,
            r.NeverReviewed, r.ObjectsPerImage, r.BoxOutliers, r.Heatmaps, r.ImageSizes, r.NearDuplicates, r.Leaks);
}
