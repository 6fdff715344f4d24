namespace VisionLabel.Inference.Tiling;

/// <summary>Auto: slice images over <see cref="TilingOptions.TileAbovePixels"/>; Always; Never (one letterboxed pass, as before tiling).</summary>
public enum TilingMode { Auto, Always, Never }

/// <summary>How large images are cut into model-sized slices (issue #26).</summary>
public sealed record TilingOptions
{
    public TilingMode Mode { get; init; } = TilingMode.Auto;
    /// <summary>Fraction of a slice shared with its neighbour (0 to 0.5): an object narrower than the overlap is whole in some slice.</summary>
    public double Overlap { get; init; } = 0.2;
    /// <summary>Auto slices an image with more pixels than this (default 40 MP, the size from which the server keeps a
    /// pyramid): below it a photo goes through in one pass as before — slicing a 12 MP phone photo would cost some 30
    /// model runs instead of one, which is the caller's choice (tiling: always), not a default.</summary>
    public long TileAbovePixels { get; init; } = 40_000_000;
    /// <summary>Also run the whole image letterboxed (low resolution) for objects larger than a slice; only its large boxes are kept.</summary>
    public bool WholeImagePass { get; init; } = true;

    public static readonly TilingOptions Never = new() { Mode = TilingMode.Never };

    /// <summary>Whether an image of this size is sliced for a model with this input.</summary>
    public bool Applies(int width, int height, ModelSpec spec) => Mode switch
    {
        TilingMode.Never => false,
        TilingMode.Always => true,
        _ => (long)width * height > TileAbovePixels && Math.Max(width, height) > 2 * Math.Max(spec.InputWidth, spec.InputHeight),
    };
}
