namespace VisionLabel.Inference;

/// <summary>
/// YOLOX exports with the raw grid output [batch, N, 5+nc] (N = the anchors of strides 8/16/32 at the input size);
/// they carry no names. Fed top-left, BGR, raw 0..255 as YOLOX's preproc; NMS IoU 0.45 as its demo.
/// </summary>
public sealed class YoloxAdapter : IModelAdapter
{
    public ModelFamily Family => ModelFamily.Yolox;
    public LetterboxStyle Letterbox { get; } = new(Centered: false, Bgr: true, Unit: 1f);
    public float DefaultIou => 0.45f;

    public ModelSpec? TryRecognise(ModelGraph graph, IReadOnlyList<string>? namesOverride)
    {
        // raw grid: [b, N, 5+nc] with N the anchor count of strides 8/16/32 at the input size.
        if (graph.Outputs.Count == 1 && graph.Outputs[0].Value.Dimensions is [_, var n, var width] && width > 5 && n == Anchors(graph.InputWidth, graph.InputHeight))
        {
            int classCount = width - 5;
            if (namesOverride is not null && namesOverride.Count != classCount)
                throw new UnsupportedModelException($"the names file lists {namesOverride.Count} classes but the model outputs {classCount}");
            return new ModelSpec
            {
                Family = ModelFamily.Yolox, Task = ModelTask.Detect, InputName = graph.InputName, InputWidth = graph.InputWidth, InputHeight = graph.InputHeight,
                FixedBatch = graph.FixedBatch, ClassNames = namesOverride ?? ModelAdapters.Generated(classCount),
                ClassNamesSource = namesOverride is not null ? "names file" : "generated",
                OutputNames = [graph.Outputs[0].Key], Anchors = n,
            };
        }
        return null;
    }

    public static int Anchors(int width, int height) => new[] { 8, 16, 32 }.Sum(s => (width / s) * (height / s));

    public long[][] OutputShapes(ModelSpec spec) => [[spec.Anchors, 5 + spec.ClassCount]];

    public List<Nms.Candidate> Decode(ReadOnlySpan<float> output, ModelSpec spec, float confidence) =>
        DecodeGrid(output, spec.InputWidth, spec.InputHeight, spec.ClassCount, confidence);

    public void MaskCoefficients(ReadOnlySpan<float> output, ModelSpec spec, int anchor, Span<float> coefficients) =>
        throw new NotSupportedException("YOLOX models detect only");

    /// <summary>The runner-up class's score (objectness × class probability), as the candidate's is.</summary>
    public float RunnerUp(ReadOnlySpan<float> output, ModelSpec spec, int anchor, int classId)
    {
        var row = output.Slice(anchor * (5 + spec.ClassCount), 5 + spec.ClassCount);
        float best = 0;
        for (int c = 0; c < spec.ClassCount; c++)
            if (c != classId) best = Math.Max(best, row[5 + c]);
        return row[4] * best;
    }

    /// <summary>
    /// YOLOX raw grid [N, 5+nc]: (px, py, pw, ph, objectness, class scores) per anchor, anchors ordered by
    /// stride 8, 16, 32 then row-major. Centre = (p + grid) * stride, size = exp(p) * stride, score = obj * class.
    /// </summary>
    internal static List<Nms.Candidate> DecodeGrid(ReadOnlySpan<float> output, int inputWidth, int inputHeight, int classes, float confidence)
    {
        var candidates = new List<Nms.Candidate>();
        int stride5 = 5 + classes, anchor = 0;
        foreach (int stride in (ReadOnlySpan<int>)[8, 16, 32])
        {
            int gw = inputWidth / stride, gh = inputHeight / stride;
            for (int gy = 0; gy < gh; gy++)
            for (int gx = 0; gx < gw; gx++, anchor++)
            {
                var row = output.Slice(anchor * stride5, stride5);
                int bestClass = 0;
                float bestScore = row[5];
                for (int c = 1; c < classes; c++) if (row[5 + c] > bestScore) { bestScore = row[5 + c]; bestClass = c; }
                float score = row[4] * bestScore;
                if (!(score >= confidence)) continue;
                float cx = (row[0] + gx) * stride, cy = (row[1] + gy) * stride;
                float w = MathF.Exp(row[2]) * stride, h = MathF.Exp(row[3]) * stride;
                candidates.Add(new Nms.Candidate(anchor, bestClass, score, new BoxF(cx - w / 2, cy - h / 2, w, h)));
            }
        }
        return candidates;
    }
}
