using Microsoft.ML.OnnxRuntime;

namespace VisionLabel.Inference;

/// <summary>A graph as the adapters see it: its inputs, outputs and metadata, and a one-line description for errors.</summary>
public sealed record ModelGraph(
    string InputName, int InputWidth, int InputHeight, int? FixedBatch,
    IReadOnlyList<KeyValuePair<string, NodeMetadata>> Outputs, IReadOnlyDictionary<string, string> Metadata, string Found);

/// <summary>
/// One model family (CVAT/Datumaro style: one file per adapter, listed in <see cref="ModelAdapters"/>): recognises
/// its graphs, says how images are fed to it, and decodes its output into candidate boxes. Adding a family is one
/// file implementing this plus one line in the list; nothing else branches on the family.
/// </summary>
public interface IModelAdapter
{
    ModelFamily Family { get; }

    /// <summary>Where the resized image sits and what the tensor holds.</summary>
    LetterboxStyle Letterbox { get; }

    /// <summary>The family's customary NMS IoU threshold, used when the caller gives none.</summary>
    float DefaultIou { get; }

    /// <summary>A spec when the graph has this family's layout; null when it is not this family's. Throws
    /// <see cref="UnsupportedModelException"/> when it is, but something does not fit (the message says what).</summary>
    ModelSpec? TryRecognise(ModelGraph graph, IReadOnlyList<string>? namesOverride);

    /// <summary>The shape of each output for one image (no batch dimension), in the spec's output order.</summary>
    long[][] OutputShapes(ModelSpec spec);

    /// <summary>One image's first output to candidates in model-input pixels, before NMS.</summary>
    List<Nms.Candidate> Decode(ReadOnlySpan<float> output, ModelSpec spec, float confidence);

    /// <summary>The best score of any class but <paramref name="classId"/> at the anchor, on the same scale as the
    /// candidate's score (its runner-up: the margin between them is how sure the model was of the class).</summary>
    float RunnerUp(ReadOnlySpan<float> output, ModelSpec spec, int anchor, int classId);

    /// <summary>Segmentation: the mask coefficients of one candidate's anchor.</summary>
    void MaskCoefficients(ReadOnlySpan<float> output, ModelSpec spec, int anchor, Span<float> coefficients);
}
