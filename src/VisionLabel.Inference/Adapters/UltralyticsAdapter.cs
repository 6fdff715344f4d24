using System.Numerics;

namespace VisionLabel.Inference;

/// <summary>
/// Ultralytics YOLO (v8, 11, …) exports, detect and segment: recognised by their metadata (author Ultralytics, or a
/// names dict) and an output [batch, 4+nc(+nm), N]; segment adds prototype masks [batch, nm, mh, mw]. Fed centred,
/// RGB, value/255; NMS IoU 0.7 as Ultralytics predicts.
/// </summary>
public sealed class UltralyticsAdapter : IModelAdapter
{
    public ModelFamily Family => ModelFamily.Ultralytics;
    public LetterboxStyle Letterbox { get; } = new(Centered: true, Bgr: false, Unit: 1f / 255f);
    public float DefaultIou => 0.7f;

    public ModelSpec? TryRecognise(ModelGraph graph, IReadOnlyList<string>? namesOverride)
    {
        var metaNames = PythonDictNames.TryParse(graph.Metadata.GetValueOrDefault("names"));
        bool ultralytics = graph.Metadata.GetValueOrDefault("author")?.Contains("Ultralytics", StringComparison.OrdinalIgnoreCase) == true || metaNames is not null;
        if (!ultralytics) return null;
        // detect: [b, 4+nc, N]; segment: [b, 4+nc+nm, N] plus protos [b, nm, mh, mw].
        if (graph.Outputs.Count is 1 or 2 && graph.Outputs[0].Value.Dimensions is [_, var channels, var anchors] && channels > 4)
        {
            (int, int, int)? protos = null;
            int maskChannels = 0;
            if (graph.Outputs.Count == 2)
            {
                if (graph.Outputs[1].Value.Dimensions is not [_, var nm, var mh, var mw] || nm <= 0)
                    throw new UnsupportedModelException($"segmentation model without a [batch, masks, h, w] prototype output; found {graph.Found}");
                protos = (nm, mh, mw);
                maskChannels = nm;
            }
            int classCount = channels - 4 - maskChannels;
            var names = namesOverride ?? metaNames;
            if (classCount <= 0 || (names is not null && names.Count != classCount))
                throw new UnsupportedModelException($"output has {channels} channels, which does not fit 4 box values + {names?.Count.ToString() ?? "?"} classes" +
                                                    (maskChannels > 0 ? $" + {maskChannels} mask coefficients" : "") + $"; found {graph.Found}");
            return new ModelSpec
            {
                Family = ModelFamily.Ultralytics, Task = protos is null ? ModelTask.Detect : ModelTask.Segment,
                InputName = graph.InputName, InputWidth = graph.InputWidth, InputHeight = graph.InputHeight, FixedBatch = graph.FixedBatch,
                ClassNames = names ?? ModelAdapters.Generated(classCount), ClassNamesSource = namesOverride is not null ? "names file" : metaNames is not null ? "metadata" : "generated",
                OutputNames = graph.Outputs.Select(o => o.Key).ToList(), Anchors = anchors, Protos = protos,
            };
        }
        return null;
    }

    public long[][] OutputShapes(ModelSpec spec) => spec.Protos is { } p
        ? [[4 + spec.ClassCount + p.Channels, spec.Anchors], [p.Channels, p.Height, p.Width]]
        : [[4 + spec.ClassCount, spec.Anchors]];

    public List<Nms.Candidate> Decode(ReadOnlySpan<float> output, ModelSpec spec, float confidence) =>
        DecodeGrid(output, spec.Anchors, spec.ClassCount, confidence);

    /// <summary>Channel-major: coefficient k of an anchor is in row 4 + nc + k.</summary>
    public float RunnerUp(ReadOnlySpan<float> output, ModelSpec spec, int anchor, int classId)
    {
        float best = 0;
        for (int c = 0; c < spec.ClassCount; c++)
            if (c != classId) best = Math.Max(best, output[(4 + c) * spec.Anchors + anchor]);
        return best;
    }

    public void MaskCoefficients(ReadOnlySpan<float> output, ModelSpec spec, int anchor, Span<float> coefficients)
    {
        int firstRow = 4 + spec.ClassCount;
        for (int k = 0; k < coefficients.Length; k++) coefficients[k] = output[(firstRow + k) * spec.Anchors + anchor];
    }

    /// <summary>
    /// Ultralytics [4+nc(+nm), N], channel-major: rows 0..3 cx, cy, w, h; then class scores (already
    /// sigmoid). Best class per anchor, kept when its score is above the threshold.
    /// </summary>
    internal static List<Nms.Candidate> DecodeGrid(ReadOnlySpan<float> output, int anchors, int classes, float confidence)
    {
        var candidates = new List<Nms.Candidate>();
        // The best class per anchor, scanning class rows (contiguous memory) a block of anchors at a time so the
        // block's bests stay in L1, with SIMD compares: this scan reads every score (80 × 8400 for a 640 input) and
        // was the largest managed cost of a pre-labeling job. Ties keep the lower class, as a scalar scan would.
        const int Block = 1024;
        Span<float> best = stackalloc float[Block];
        Span<int> bestClass = stackalloc int[Block];
        int width = Vector<float>.Count;
        for (int start = 0; start < anchors; start += Block)
        {
            int n = Math.Min(Block, anchors - start);
            output.Slice(4 * anchors + start, n).CopyTo(best);
            bestClass[..n].Clear();
            for (int c = 1; c < classes; c++)
            {
                var row = output.Slice((4 + c) * anchors + start, n);
                var cls = new Vector<int>(c);
                int i = 0;
                for (; i <= n - width; i += width)
                {
                    var score = new Vector<float>(row[i..]);
                    var top = new Vector<float>(best[i..]);
                    var greater = Vector.GreaterThan(score, top);
                    if (greater == Vector<int>.Zero) continue; // the common case: most scores are near zero
                    Vector.ConditionalSelect(greater, score, top).CopyTo(best[i..]);
                    Vector.ConditionalSelect(greater, cls, new Vector<int>(bestClass[i..])).CopyTo(bestClass[i..]);
                }
                for (; i < n; i++)
                    if (row[i] > best[i]) { best[i] = row[i]; bestClass[i] = c; }
            }
            for (int j = 0; j < n; j++)
            {
                if (!(best[j] > confidence)) continue;
                int a = start + j;
                float cx = output[a], cy = output[anchors + a], w = output[2 * anchors + a], h = output[3 * anchors + a];
                candidates.Add(new Nms.Candidate(a, bestClass[j], best[j], new BoxF(cx - w / 2, cy - h / 2, w, h)));
            }
        }
        return candidates;
    }
}
