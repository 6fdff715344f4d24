using Microsoft.ML.OnnxRuntime;
using VisionLabel.Imaging;
using VisionLabel.Inference.Tiling;
using VisionLabel.Shapes;

namespace VisionLabel.Inference;

/// <summary>
/// One loaded model on one device: preprocesses images into batch tensors, runs them, decodes the outputs.
/// Thread-safe: several threads may call <see cref="Run"/> at once (ONNX Runtime sessions allow concurrent runs),
/// which is how CPU inference uses every core with 1-thread runs.
/// </summary>
public sealed class Detector : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    public ModelSpec Spec { get; }
    public bool OnCuda { get; }
    public int ConcurrentRuns { get; }

    private Detector(InferenceSession session, ModelSpec spec, bool onCuda, int concurrentRuns)
    {
        _session = session;
        Spec = spec;
        OnCuda = onCuda;
        ConcurrentRuns = concurrentRuns;
    }

    /// <summary>Loads and recognises a model. Bad bytes or unknown layouts raise <see cref="UnsupportedModelException"/>.</summary>
    public static Detector Load(byte[] model, InferenceDevice device, IReadOnlyList<string>? classNames = null)
    {
        if (model.Length < 16) throw new UnsupportedModelException($"not an ONNX model: the file has only {model.Length} bytes");
        InferenceSession session;
        bool onCuda;
        try { (session, onCuda) = device.Load(model); }
        catch (OnnxRuntimeException e)
        {
            throw new UnsupportedModelException($"not a loadable ONNX model ({FirstLine(e.Message)}); check that the file is a complete .onnx export");
        }
        try
        {
            var spec = ModelInspector.Inspect(session, classNames);
            return new Detector(session, spec, onCuda, device.ConcurrentRuns(onCuda));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();

    /// <summary>How many images one run takes: the graph's fixed batch, or up to <paramref name="wanted"/> when dynamic.</summary>
    public int BatchSize(int wanted) => Spec.FixedBatch ?? Math.Max(1, wanted);

    public int SlotLength => 3 * Spec.InputWidth * Spec.InputHeight;

    public LetterboxGeometry Preprocess(RgbImage image, Span<float> slot) =>
        Letterbox.Fill(image, Spec.Adapter.Letterbox, slot, Spec.InputWidth, Spec.InputHeight);

    /// <summary>Buffers for one run of up to <paramref name="capacity"/> images; reuse them across runs.</summary>
    public RunBuffers CreateBuffers(int capacity) => new(this, capacity);

    /// <summary>Runs <paramref name="count"/> images already preprocessed into <paramref name="buffers"/>.Input.</summary>
    public void Run(RunBuffers buffers, int count)
    {
        if (count < 1 || count > buffers.Capacity) throw new ArgumentOutOfRangeException(nameof(count));
        if (Spec.FixedBatch is { } fixedBatch && count != fixedBatch) throw new ArgumentException($"this model runs batches of exactly {fixedBatch}");
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            buffers.Input.AsMemory(0, count * SlotLength), [count, 3, Spec.InputHeight, Spec.InputWidth]);
        var outputs = new OrtValue[buffers.Outputs.Length];
        try
        {
            for (int o = 0; o < outputs.Length; o++)
            {
                long[] shape = [count, .. buffers.OutputShapes[o]];
                outputs[o] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
                    buffers.Outputs[o].AsMemory(0, count * buffers.OutputLengths[o]), shape);
            }
            _session.Run(_runOptions, [Spec.InputName], [input], Spec.OutputNames, outputs);
        }
        finally
        {
            foreach (var o in outputs) o?.Dispose();
        }
    }

    /// <summary>
    /// Decodes image <paramref name="index"/> of the last run in <paramref name="buffers"/> into detections in original pixels.
    /// With <paramref name="placement"/> the image was a slice of a larger one: boxes, masks and polygons come out in the
    /// larger image's pixels (masks as its whole-image RLE), each box still clipped to the slice.
    /// </summary>
    public List<Detection> Postprocess(RunBuffers buffers, int index, LetterboxGeometry geometry, DetectionOptions options, SlicePlacement? placement = null)
    {
        var at = placement ?? new SlicePlacement(0, 0, geometry.SourceWidth, geometry.SourceHeight);
        var output = buffers.Outputs[0].AsSpan(index * buffers.OutputLengths[0], buffers.OutputLengths[0]);
        var candidates = Spec.Adapter.Decode(output, Spec, options.Confidence);
        var kept = Nms.Run(candidates, options.Iou ?? Spec.DefaultIou, options.MaxDetections);

        var detections = new List<Detection>(kept.Count);
        var protos = Spec.Protos is { } p
            ? new MaskRenderer.ProtoView(buffers.Outputs[1], index * buffers.OutputLengths[1], p.Channels, p.Height, p.Width)
            : (MaskRenderer.ProtoView?)null;
        Span<float> coefficients = stackalloc float[Spec.Protos?.Channels ?? 0];
        foreach (var c in kept)
        {
            var box = OutputDecoder.ToOriginal(c.Box, geometry);
            var detection = new Detection(c.ClassId, c.Score, box with { X = box.X + at.X, Y = box.Y + at.Y }) { Margin = c.Score - Spec.Adapter.RunnerUp(output, Spec, c.Anchor, c.ClassId) };
            if (protos is { } view)
            {
                Spec.Adapter.MaskCoefficients(output, Spec, c.Anchor, coefficients);
                var (pixels, x0, y0, w, h) = MaskRenderer.Render(coefficients, view, box, geometry.SourceWidth, geometry.SourceHeight);
                detection = detection with
                {
                    Mask = MaskRenderer.ToRle(pixels, x0 + at.X, y0 + at.Y, w, h, at.ImageWidth, at.ImageHeight),
                    Polygons = options.Polygons ? MaskContours.Trace(pixels, w, h, x0 + at.X, y0 + at.Y) : null,
                };
            }
            detections.Add(detection);
        }
        return detections;
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    /// <summary>Pinned-once input and output memory for runs of up to Capacity images.</summary>
    public sealed class RunBuffers
    {
        public int Capacity { get; }
        public float[] Input { get; }
        public float[][] Outputs { get; }
        internal long[][] OutputShapes { get; }
        internal int[] OutputLengths { get; }

        internal RunBuffers(Detector detector, int capacity)
        {
            var spec = detector.Spec;
            Capacity = capacity;
            Input = new float[capacity * detector.SlotLength];
            OutputShapes = spec.Adapter.OutputShapes(spec);
            OutputLengths = OutputShapes.Select(s => (int)s.Aggregate(1L, (a, b) => a * b)).ToArray();
            Outputs = OutputLengths.Select(n => new float[capacity * n]).ToArray();
        }

        public Span<float> Slot(int index, int slotLength) => Input.AsSpan(index * slotLength, slotLength);
    }
}
