using System.Diagnostics;
using VisionLabel.Imaging;
using VisionLabel.Inference;

namespace VisionLabel.Bench;

/// <summary>
/// The benchmarks' baseline: the model alone, one preprocessed image copied into every slot of a batch, run for the
/// duration with the detector's concurrency (one run at a time on CUDA). Compiled into VisionLabel.Bench and into
/// bench/gpu/GpuProof, which cannot reference the bench (it carries the server and Playwright).
/// </summary>
internal static class RawRate
{
    public static async Task<double> MeasureAsync(Detector detector, string imageFile, int batch, TimeSpan duration)
    {
        var image = ImageTransforms.DecodeUpright(File.ReadAllBytes(imageFile));
        long images = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, detector.ConcurrentRuns).Select(_ => Task.Run(() =>
        {
            var buffers = detector.CreateBuffers(batch);
            for (int i = 0; i < batch; i++) detector.Preprocess(image, buffers.Slot(i, detector.SlotLength));
            while (clock.Elapsed < duration)
            {
                detector.Run(buffers, batch);
                Interlocked.Add(ref images, batch);
            }
        })));
        return images / clock.Elapsed.TotalSeconds;
    }
}
