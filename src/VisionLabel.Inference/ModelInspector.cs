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

        var metaNames = PythonDictNames.TryParse(metadata.GetValueOrDefault("names"));
        bool ultralytics = metadata.GetValueOrDefault("author")?.Contains("Ultralytics", StringComparison.OrdinalIgnoreCase) == true || metaNames is not null;

        // Ultralytics detect: [b, 4+nc, N]; segment: [b, 4+nc+nm, N] plus protos [b, nm, mh, mw].
        if (ultralytics && outputs.Count is 1 or 2 && outputs[0].Value.Dimensions is [_, var channels, var anchors] && channels > 4)
        {
            (int, int, int)? protos = null;
            int maskChannels = 0;
            if (outputs.Count == 2)
            {
                if (outputs[1].Value.Dimensions is not [_, var nm, var mh, var mw] || nm <= 0)
                    throw new UnsupportedModelException($"segmentation model without a [batch, masks, h, w] prototype output; found {found}");
                protos = (nm, mh, mw);
                maskChannels = nm;
            }
            int classCount = channels - 4 - maskChannels;
            var names = namesOverride ?? metaNames;
            if (classCount <= 0 || (names is not null && names.Count != classCount))
                throw new UnsupportedModelException($"output has {channels} channels, which does not fit 4 box values + {names?.Count.ToString() ?? "?"} classes" +
                                                    (maskChannels > 0 ? $" + {maskChannels} mask coefficients" : "") + $"; found {found}");
            return new ModelSpec
            {
                Family = ModelFamily.Ultralytics, Task = protos is null ? ModelTask.Detect : ModelTask.Segment,
                InputName = inputName, InputWidth = inW, InputHeight = inH, FixedBatch = fixedBatch,
                ClassNames = names ?? Generated(classCount), ClassNamesSource = namesOverride is not null ? "names file" : metaNames is not null ? "metadata" : "generated",
                OutputNames = outputs.Select(o => o.Key).ToList(), Anchors = anchors, Protos = protos,
            };
        }

        // YOLOX raw grid: [b, N, 5+nc] with N the anchor count of strides 8/16/32 at the input size.
        if (outputs.Count == 1 && outputs[0].Value.Dimensions is [_, var n, var width] && width > 5 && n == YoloxAnchors(inW, inH))
        {
            int classCount = width - 5;
            if (namesOverride is not null && namesOverride.Count != classCount)
                throw new UnsupportedModelException($"the names file lists {namesOverride.Count} classes but the model outputs {classCount}");
            return new ModelSpec
            {
                Family = ModelFamily.Yolox, Task = ModelTask.Detect, InputName = inputName, InputWidth = inW, InputHeight = inH,
                FixedBatch = fixedBatch, ClassNames = namesOverride ?? Generated(classCount),
                ClassNamesSource = namesOverride is not null ? "names file" : "generated",
                OutputNames = [outputs[0].Key], Anchors = n,
            };
        }

        throw new UnsupportedModelException($"no adapter understands this model's outputs (Ultralytics YOLO detect/segment, YOLOX); found {found}");
    }

    public static int YoloxAnchors(int width, int height) =>
        new[] { 8, 16, 32 }.Sum(s => (width / s) * (height / s));

    private static IReadOnlyList<string> Generated(int count) => Enumerable.Range(0, count).Select(i => $"class{i}").ToList();

    private static string Describe(List<KeyValuePair<string, NodeMetadata>> inputs, List<KeyValuePair<string, NodeMetadata>> outputs)
    {
        static string Shape(KeyValuePair<string, NodeMetadata> n) =>
            $"{n.Key} {n.Value.ElementDataType.ToString().ToLowerInvariant()}[{string.Join(",", n.Value.Dimensions.Select(d => d < 0 ? "?" : d.ToString()))}]";
        return $"inputs {string.Join("; ", inputs.Select(Shape))}; outputs {string.Join("; ", outputs.Select(Shape))}";
    }
}
