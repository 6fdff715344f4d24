using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace VisionLabel.Inference;

/// <summary>Recognises a model's layout from its input/output shapes and metadata and describes it as a <see cref="ModelSpec"/>.</summary>
public static class ModelInspector
{
    public static ModelSpec Inspect(InferenceSession session, IReadOnlyList<string>? namesOverride = null)
    {
        var inputs = session.InputMetadata.ToList();
        var outputs = session.OutputMetadata.ToList();
        var metadata = session.ModelMetadata.CustomMetadataMap;
        string found = Describe(inputs, outputs);

        if (inputs.Count != 1 || inputs[0].Value.Dimensions is not [var batch, 3, var inH, var inW] || inH <= 0 || inW <= 0 ||
            inputs[0].Value.ElementDataType != TensorElementType.Float)
            throw new UnsupportedModelException($"expected one float image input [batch, 3, height, width]; found {found}");
        int? fixedBatch = batch > 0 ? batch : null;
        string inputName = inputs[0].Key;
        var graph = new ModelGraph(inputName, inW, inH, fixedBatch, outputs, metadata, found);
        foreach (var adapter in ModelAdapters.All)
            if (adapter.TryRecognise(graph, namesOverride) is { } spec) return spec;
        throw new UnsupportedModelException($"no adapter understands this model's outputs (Ultralytics YOLO detect/segment, YOLOX); found {found}");
    }

    private static string Describe(List<KeyValuePair<string, NodeMetadata>> inputs, List<KeyValuePair<string, NodeMetadata>> outputs)
    {
        static string Shape(KeyValuePair<string, NodeMetadata> n) =>
            $"{n.Key} {n.Value.ElementDataType.ToString().ToLowerInvariant()}[{string.Join(",", n.Value.Dimensions.Select(d => d < 0 ? "?" : d.ToString()))}]";
        return $"inputs {string.Join("; ", inputs.Select(Shape))}; outputs {string.Join("; ", outputs.Select(Shape))}";
    }
}
