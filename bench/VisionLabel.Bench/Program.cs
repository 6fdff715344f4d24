using VisionLabel.Bench;

// dotnet run -c Release --project bench/VisionLabel.Bench -- inference|jobs|export [--images N] [--seconds S] [--shared DIR] [--device cpu|cuda] [--models a.onnx,b.onnx]
// Results are reported as ratios against a baseline measured in the same run; see docs/benchmarks.md.
VisionLabel.Imaging.Native.NativeCodecs.Load(); // before OpenCV (Imaging/Native/DeepBind.cs)
var options = BenchArgs.Parse(args);
return options.Command switch
{
    "inference" => await InferenceBench.RunAsync(options),
    "jobs" => await JobBench.RunAsync(options),
    "export" => await ExportBench.RunAsync(options),
    "intake" => await IntakeBench.RunAsync(options),
    "canvas" => await CanvasBench.RunAsync(options),
    "grid" => await GridBench.RunAsync(options),
    "quality" => await QualityBench.RunAsync(options),
    "health" => await HealthBench.RunAsync(options),
    "segment" => await SegmentBench.RunAsync(options),
    "pyramid" => await PyramidBench.RunAsync(options, args),
    "bulk" => await BulkBench.RunAsync(options),
    "viewer" => await ViewerBench.RunAsync(options),
    "pyramid-one" or "decode-one" => PyramidBench.Child(args[0], args[1], args[2]),
    "screenshot" => await Screenshot.RunAsync(options, args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault() ?? "docs/editor.png"),
    _ => BenchArgs.Usage(),
};
