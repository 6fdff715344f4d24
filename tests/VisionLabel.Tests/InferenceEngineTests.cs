using VisionLabel.Imaging;
using VisionLabel.Inference;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

[Trait("Tier", Tiers.Unit)]
public class InferenceEngineTests
{
    private static readonly InferenceDevice Cpu = new(new InferenceOptions { Device = DeviceChoice.Cpu });

    [Fact]
    public void Models_are_recognised_from_their_graph_and_metadata()
    {
        using var det = Detector.Load(File.ReadAllBytes(SharedData.Require("models/yolov8n-det-int8-640.onnx")), Cpu);
        Assert.Equal((ModelFamily.Ultralytics, ModelTask.Detect, 640, 640, (int?)1, 8400), (det.Spec.Family, det.Spec.Task, det.Spec.InputWidth, det.Spec.InputHeight, det.Spec.FixedBatch, det.Spec.Anchors));
        Assert.Equal(("person", "toothbrush", "metadata"), (det.Spec.ClassNames[0], det.Spec.ClassNames[79], det.Spec.ClassNamesSource));

        using var seg = Detector.Load(File.ReadAllBytes(SharedData.Require("models/yolo11n-seg-int8-640.onnx")), Cpu);
        Assert.Equal((ModelTask.Segment, (32, 160, 160)), (seg.Spec.Task, seg.Spec.Protos!.Value));

        using var yolox = Detector.Load(File.ReadAllBytes(SharedData.Require("models/yolox_nano-416.onnx")), Cpu);
        Assert.Equal((ModelFamily.Yolox, 416, 3549, "generated"), (yolox.Spec.Family, yolox.Spec.InputWidth, yolox.Spec.Anchors, yolox.Spec.ClassNamesSource));

        using var dyn = Detector.Load(File.ReadAllBytes(SharedData.Require("models/derived/yolov8n-det-fp32dq-dynbatch-640.onnx")), Cpu);
        Assert.Null(dyn.Spec.FixedBatch);
    }

    [Fact]
    public void Renamed_model_files_are_still_recognised_by_content()
    {
        // The file name says "yolox" but the graph is an Ultralytics segmenter: the graph wins.
        using var dir = new TempDirectory();
        string misleading = Path.Combine(dir.Path, "yolox_tiny.onnx");
        File.Copy(SharedData.Require("models/yolo11n-seg-int8-640.onnx"), misleading);
        using var detector = Detector.Load(File.ReadAllBytes(misleading), Cpu);
        Assert.Equal((ModelFamily.Ultralytics, ModelTask.Segment), (detector.Spec.Family, detector.Spec.Task));
    }

    [Fact]
    public void Bad_models_are_refused_with_what_was_found()
    {
        var notOnnx = Assert.Throws<UnsupportedModelException>(() => Detector.Load("this is not a model, just text in a file"u8.ToArray(), Cpu));
        Assert.Contains("not a loadable ONNX model", notOnnx.Message);

        byte[] real = File.ReadAllBytes(SharedData.Require("models/yolov8n-det-int8-640.onnx"));
        var truncated = Assert.Throws<UnsupportedModelException>(() => Detector.Load(real[..(real.Length / 2)], Cpu));
        Assert.Contains("not a loadable ONNX model", truncated.Message);

        var unknown = Assert.Throws<UnsupportedModelException>(() => Detector.Load(TinyOnnx.Identity([1, 3, 64, 64]), Cpu));
        Assert.Contains("no adapter understands", unknown.Message);
        Assert.Contains("out float[1,3,64,64]", unknown.Message);

        var notImage = Assert.Throws<UnsupportedModelException>(() => Detector.Load(TinyOnnx.Identity([1, 10]), Cpu));
        Assert.Contains("expected one float image input", notImage.Message);

        var wrongNames = Assert.Throws<UnsupportedModelException>(() =>
            Detector.Load(File.ReadAllBytes(SharedData.Require("models/yolox_nano-416.onnx")), Cpu, ["cat", "dog"]));
        Assert.Contains("lists 2 classes but the model outputs 80", wrongNames.Message);
    }

    [Fact]
    public async Task A_corrupt_image_fails_alone_and_the_batch_goes_on()
    {
        string images = SharedData.Require("datasets/coco128/images/train2017");
        using var detector = Detector.Load(File.ReadAllBytes(SharedData.Require("models/yolox_nano-416.onnx")), Cpu);
        var good = Directory.GetFiles(images, "*.jpg").Order().Take(6).ToList();
        var items = good.Select(f => new PipelineItem(Path.GetFileName(f), _ => new ValueTask<byte[]>(File.ReadAllBytes(f)))).ToList();
        items.Insert(3, new PipelineItem("broken.jpg", _ => new ValueTask<byte[]>(File.ReadAllBytes(good[0])[..5000])));
        items.Insert(5, new PipelineItem("missing.jpg", _ => throw new FileNotFoundException("missing.jpg is gone")));

        var results = new List<PipelineResult>();
        var stats = new PipelineStats();
        await BatchPipeline.RunAsync(detector, items, new DetectionOptions(), r => { results.Add(r); return ValueTask.CompletedTask; }, stats: stats,
            ct: TestContext.Current.CancellationToken);

        Assert.Equal(8, results.Count);
        Assert.Contains("truncated JPEG", results.Single(r => r.Item.Name == "broken.jpg").Error);
        Assert.Contains("gone", results.Single(r => r.Item.Name == "missing.jpg").Error);
        Assert.All(results.Where(r => r.Item.Name.StartsWith("0000")), r => Assert.NotEmpty(r.Detections!));
        Assert.Equal((8, 2), (stats.Images, stats.Failed));
    }

    [Fact]
    public async Task Dynamic_batch_model_gives_the_same_detections_in_batches_as_one_by_one()
    {
        string images = SharedData.Require("datasets/coco128/images/train2017");
        using var detector = Detector.Load(File.ReadAllBytes(SharedData.Require("models/derived/yolov8n-det-fp32dq-dynbatch-640.onnx")), Cpu);
        var files = Directory.GetFiles(images, "*.jpg").Order().Take(8).ToList();
        async Task<Dictionary<string, IReadOnlyList<Detection>>> Run(int batch)
        {
            var found = new Dictionary<string, IReadOnlyList<Detection>>();
            var stats = new PipelineStats();
            await BatchPipeline.RunAsync(detector, files.Select(f => new PipelineItem(f, _ => new ValueTask<byte[]>(File.ReadAllBytes(f)))),
                new DetectionOptions(), r => { found[r.Item.Name] = r.Detections!; return ValueTask.CompletedTask; },
                new PipelineOptions { MaxBatch = batch, BatchWait = TimeSpan.FromSeconds(2) }, stats, TestContext.Current.CancellationToken);
            if (batch > 1) Assert.True(stats.Runs < files.Count, $"expected batched runs, got {stats.Runs} runs for {files.Count} images");
            return found;
        }
        var single = await Run(1);
        var batched = await Run(4);
        foreach (var f in files)
        {
            Assert.Equal(single[f].Count, batched[f].Count);
            foreach (var (a, b) in single[f].Zip(batched[f]))
            {
                Assert.Equal(a.ClassId, b.ClassId);
                Assert.True(Math.Abs(a.Score - b.Score) < 1e-4 && Math.Abs(a.Box.X - b.Box.X) < 0.01, $"{a} vs {b}");
            }
        }
    }

    [Fact]
    public void Cuda_request_without_a_gpu_says_why_and_auto_falls_back_to_cpu()
    {
        // The default build has the CPU package, so 'cuda' must fail saying why and 'auto' use the CPU. (A CUDA build
        // on a GPU machine loads on CUDA instead: then both requests must say so.)
        byte[] model = File.ReadAllBytes(SharedData.Require("models/yolox_nano-416.onnx"));
        var options = new InferenceOptions { Device = DeviceChoice.Cuda };
        bool cudaWorks = false;
        try { using var cuda = Detector.Load(model, new InferenceDevice(options)); cudaWorks = cuda.OnCuda; Assert.True(cudaWorks); }
        catch (InvalidOperationException error)
        {
            Assert.Contains("CUDA is not usable", error.Message);
            Assert.Matches("CPU package|CUDA provider did not load|CUDA session could not be created", error.Message);
        }

        options.Device = DeviceChoice.Auto;
        using var auto = Detector.Load(model, new InferenceDevice(options));
        Assert.Equal(cudaWorks, auto.OnCuda);
    }

    [Fact]
    public void The_cpu_build_says_it_is_the_cpu_build_not_that_cuda_libraries_are_missing()
    {
        // Issue #20, bug 6: under 'auto' the CPU build logged that CUDA 13 and cuDNN had to be on the library path.
        Assert.False(InferenceDevice.CudaBuild, "the suite runs the default (CPU) build");
        byte[] model = File.ReadAllBytes(SharedData.Require("models/yolox_nano-416.onnx"));
        var log = new LineLogger();
        using var auto = Detector.Load(model, new InferenceDevice(new InferenceOptions { Device = DeviceChoice.Auto }, log));
        Assert.False(auto.OnCuda);
        string line = Assert.Single(log.Lines, l => l.StartsWith("Using CPU inference"));
        Assert.Contains("CPU build", line);
        Assert.DoesNotContain("library path", line);
        var error = Assert.Throws<InvalidOperationException>(() => Detector.Load(model, new InferenceDevice(new InferenceOptions { Device = DeviceChoice.Cuda })));
        Assert.Contains("CPU build", error.Message);
    }

    private sealed class LineLogger : Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) { lock (Lines) Lines.Add(formatter(state, exception)); }
    }

    [Fact]
    public void Mask_outline_follows_the_mask()
    {
        // A filled disc of radius 30 and a separate 10x10 square: two rings, areas close to the pixel counts.
        int w = 120, h = 80;
        var mask = new byte[w * h];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++)
            if ((x - 40) * (x - 40) + (y - 40) * (y - 40) <= 900 || (x >= 95 && x < 105 && y >= 10 && y < 20)) mask[y * w + x] = 1;
        var rings = MaskContours.Trace(mask, w, h, originX: 100, originY: 50);
        Assert.Equal(2, rings.Count);
        var disc = rings.OrderByDescending(Area).First();
        Assert.InRange(Area(disc), Math.PI * 900 * 0.9, Math.PI * 900 * 1.05);
        Assert.True(disc.Length / 2 < 60, $"simplification should keep the ring small, got {disc.Length / 2} points");
        Assert.All(disc.Where((_, i) => i % 2 == 0), x => Assert.InRange(x, 100 + 9, 100 + 72)); // offset applied
    }

    private static double Area(float[] ring)
    {
        double a = 0;
        for (int i = 0, n = ring.Length / 2; i < n; i++)
        {
            int j = (i + 1) % n;
            a += ring[2 * i] * ring[2 * j + 1] - ring[2 * j] * ring[2 * i + 1];
        }
        return Math.Abs(a) / 2;
    }

    [Theory]
    [InlineData("{0: 'person', 1: 'bicycle'}", "person|bicycle")]
    [InlineData("{0: \"it's\", 1: 'say \\'hi\\''}", "it's|say 'hi'")]
    [InlineData("{ 1: 'a', 0: 'b' }", "b|a")]
    [InlineData("{0: 'a', 2: 'c'}", null)]
    [InlineData("['a', 'b']", null)]
    [InlineData("{0: 'unterminated}", null)]
    public void Ultralytics_names_metadata_is_read_as_a_python_dict(string text, string? expected)
    {
        var names = PythonDictNames.TryParse(text);
        Assert.Equal(expected, names is null ? null : string.Join("|", names));
    }

    [Fact]
    public void Letterbox_geometry_follows_each_family()
    {
        var u = Letterbox.Geometry(ModelFamily.Ultralytics, 640, 480, 640, 640);
        Assert.Equal((1.0, 0, 80, 640, 480), (u.Scale, u.PadLeft, u.PadTop, u.ResizedWidth, u.ResizedHeight));
        var x = Letterbox.Geometry(ModelFamily.Yolox, 640, 480, 416, 416);
        Assert.Equal((0, 0, 416, 312), (x.PadLeft, x.PadTop, x.ResizedWidth, x.ResizedHeight));

        // Same-size images pass through exactly; padding is 114.
        var image = TestImages.Quadrants(640, 480);
        var slot = new float[3 * 640 * 640];
        Letterbox.Fill(image, ModelFamily.Ultralytics, slot, 640, 640);
        Assert.Equal(114 * (1f / 255f), slot[0]);
        Assert.Equal(image.Pixels[0] * (1f / 255f), slot[80 * 640]);
    }
}
