namespace VisionLabel.Inference.Tiling;

/// <summary>
/// One large image in flight as several units (its slices and maybe its whole-image pass) that inference workers
/// finish in any order; the worker finishing the last one merges them into the image's one result.
/// </summary>
public sealed class TiledImage(PipelineItem item, int width, int height, IReadOnlyList<SliceRect> slices, int units, MergeOptions merge)
{
    private readonly List<SliceDetection> _found = [];
    private int _remaining = units;
    private string? _error;

    public PipelineItem Item => item;
    public int Width => width;
    public int Height => height;
    /// <summary>Units the image was cut into (its slices, and its whole-image pass when there is one).</summary>
    public int Units => units;

    /// <summary>One unit's detections (or its error); the image's result when this was the last unit.</summary>
    public PipelineResult? Report(SliceRect? slice, IReadOnlyList<Detection>? found, string? error)
    {
        lock (_found)
        {
            if (found is not null) _found.AddRange(found.Select(d => new SliceDetection(d, slice)));
            _error ??= error;
            if (--_remaining > 0) return null;
        }
        return _error is not null
            ? new PipelineResult(item, width, height, null, _error)
            : new PipelineResult(item, width, height, SliceMerge.Merge(_found, slices, width, height, merge), null);
    }
}
