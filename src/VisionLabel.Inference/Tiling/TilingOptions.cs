namespace VisionLabel.Inference.Tiling;

/// <summary>Auto: slice images whose longer side is over <see cref="TilingOptions.TileAbove"/>; Always; Never (one letterboxed pass, as before tiling).</summary>
public enum TilingMode { Auto, Always, Never }

/// <summary>How large images are cut into model-sized slices (issue #26).</summary>
public sealed record TilingOptions
{
    public TilingMode Mode { get; init; } = TilingMode.Auto;
    /// <summary>Fraction of a slice shared with its neighbour (0 to 0.5): an object narrower than the overlap is whole in some slice.</summary>
    public double Overlap { get; init; } = 0.2;
    /// <summary>Auto slices an image whose longer side exceeds this; null = twice the model's input side (below that a
    /// letterboxed pass loses at most half the resolution, which the model's scale augmentation absorbs).</summary>
    public int? TileAbove { get; init; }
    /// <summary>Also run the whole image letterboxed (low resolution) for objects larger than a slice; only its large boxes are kept.</summary>
    public bool WholeImagePass { get; init; } = true;

    public static readonly TilingOptions Never = new() { Mode = TilingMode.Never };

    /// <summary>Whether an image of this size is sliced for a model with this input.</summary>
    public bool Applies(int width, int height, ModelSpec spec) => Mode switch
    {
        TilingMode.Never => false,
        TilingMode.Always => true,
        _ => Math.Max(width, height) > (TileAbove ?? 2 * Math.Max(spec.InputWidth, spec.InputHeight)),
    };
}
