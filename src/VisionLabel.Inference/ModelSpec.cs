namespace VisionLabel.Inference;

public enum ModelFamily { Ultralytics, Yolox }
public enum ModelTask { Detect, Segment }

/// <summary>What a model is and how to feed it, worked out from its graph and metadata (never its file name).</summary>
public sealed record ModelSpec
{
    public required ModelFamily Family { get; init; }
    public required ModelTask Task { get; init; }
    public required string InputName { get; init; }
    public required int InputWidth { get; init; }
    public required int InputHeight { get; init; }
    /// <summary>Fixed batch size of the graph, or null when dim 0 is dynamic (then any batch runs).</summary>
    public int? FixedBatch { get; init; }
    public required IReadOnlyList<string> ClassNames { get; init; }
    /// <summary>Detection output first; for segmentation the prototype masks second.</summary>
    public required IReadOnlyList<string> OutputNames { get; init; }
    public required int Anchors { get; init; }
    /// <summary>Prototype mask grid (channels, height, width) for segmentation models.</summary>
    public (int Channels, int Height, int Width)? Protos { get; init; }
    /// <summary>Where class names came from: "metadata", "names file", or "generated".</summary>
    public required string ClassNamesSource { get; init; }

    public int ClassCount => ClassNames.Count;

    /// <summary>The family's adapter: how images are fed to the model and its output decoded.</summary>
    public IModelAdapter Adapter => _adapter ??= ModelAdapters.For(Family); // looked up once: it is asked per image
    private IModelAdapter? _adapter;

    /// <summary>The family's customary NMS IoU threshold, used when the caller gives none.</summary>
    public float DefaultIou => Adapter.DefaultIou;
}

/// <summary>The file is not an ONNX model we can run; the message lists what was found.</summary>
public sealed class UnsupportedModelException(string message) : Exception(message);
