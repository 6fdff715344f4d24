using System.Buffers;
using System.Diagnostics;
using System.Threading.Channels;
using VisionLabel.Imaging;
using VisionLabel.Inference.Tiling;

namespace VisionLabel.Inference;

/// <summary>One image to detect on: a name for reports and a way to get its bytes (file, blob store, …), or, for an
/// image too large to decode whole, a way to read its regions (<see cref="Regions"/>, used instead of the bytes).</summary>
public sealed record PipelineItem(string Name, Func<CancellationToken, ValueTask<byte[]>> ReadAsync, object? Tag = null)
{
    public IRegionSource? Regions { get; init; }
}

public sealed record PipelineResult(PipelineItem Item, int Width, int Height, IReadOnlyList<Detection>? Detections, string? Error);

/// <summary>Time spent per stage (summed over workers) and counts; safe to read while running.</summary>
public sealed class PipelineStats
{
    private long _decode, _preprocess, _inference, _postprocess;
    private int _images, _failed, _runs;

    public TimeSpan Decode => Stopwatch.GetElapsedTime(0, _decode);
    public TimeSpan Preprocess => Stopwatch.GetElapsedTime(0, _preprocess);
    public TimeSpan Inference => Stopwatch.GetElapsedTime(0, _inference);
    public TimeSpan Postprocess => Stopwatch.GetElapsedTime(0, _postprocess);
    public int Images => _images;
    public int Failed => _failed;
    public int Runs => _runs;

    internal void AddDecode(long ticks) => Interlocked.Add(ref _decode, ticks);
    internal void AddPreprocess(long ticks) => Interlocked.Add(ref _preprocess, ticks);
    internal void AddInference(long ticks) => Interlocked.Add(ref _inference, ticks);
    internal void AddPostprocess(long ticks) => Interlocked.Add(ref _postprocess, ticks);
    internal void Done(bool failed) { Interlocked.Increment(ref _images); if (failed) Interlocked.Increment(ref _failed); }
    internal void Ran() => Interlocked.Increment(ref _runs);
}

public sealed record PipelineOptions
{
    /// <summary>Images per run for dynamic-batch models (fixed-batch models use their own size).</summary>
    public int MaxBatch { get; init; } = 8;
    /// <summary>How long a run waits for more decoded images before going with a partial batch.</summary>
    public TimeSpan BatchWait { get; init; } = TimeSpan.FromMilliseconds(5);
    /// <summary>Decode workers; 0 = half the cores (at least one): decoding is a fraction of inference time.</summary>
    public int DecodeWorkers { get; init; }
    /// <summary>Decoded images waiting for inference, per inference worker. Bounds memory whatever the image count.</summary>
    public int QueueDepthPerRun { get; init; } = 2;
    /// <summary>Whether large images are cut into model-sized slices (issue #26); off unless asked, so every other caller
    /// sees one letterboxed pass per image.</summary>
    public TilingOptions Tiling { get; init; } = TilingOptions.Never;
}

/// <summary>
/// Detection over many images as a pipeline, not a loop: reading and decoding run ahead on their own workers,
/// inference workers take (dynamic) batches and preprocess straight into their own pinned tensors, then
/// decode the outputs. Bounded channels between stages keep memory flat for any number of images. A bad
/// image yields an error result and the rest carry on.
/// A large image (see <see cref="TilingOptions"/>) enters the queue as its slices, each a unit like an image (so the
/// slices of one image fill batches and spread over the runs), plus its whole-image pass; the unit finished last
/// merges them (<see cref="SliceMerge"/>) into the image's one result.
/// </summary>
public static class BatchPipeline
{
    /// <summary>An image to run, or a unit of a tiled one: a slice of it, or (Slice null) its whole-image pass.</summary>
    /// <summary>An image to run, or a unit of a tiled one: a slice of it, or (Slice null) its whole-image pass. Full: the
    /// full image's size when <see cref="Image"/> is an overview of a region-read image (detections are scaled to it).</summary>
    private sealed record Decoded(PipelineItem Item, RgbImage Image, TiledImage? Tiled = null, SliceRect? Slice = null, (int Width, int Height)? Full = null);

    public static async Task RunAsync(Detector detector, IEnumerable<PipelineItem> items, DetectionOptions detection,
        Func<PipelineResult, ValueTask> onResult, PipelineOptions? options = null, PipelineStats? stats = null, CancellationToken ct = default)
    {
        options ??= new PipelineOptions();
        stats ??= new PipelineStats();
        int runs = detector.ConcurrentRuns;
        int batch = detector.BatchSize(options.MaxBatch);
        int decoders = options.DecodeWorkers > 0 ? options.DecodeWorkers : Math.Max(1, Environment.ProcessorCount / 2);

        var pending = Channel.CreateBounded<PipelineItem>(Math.Max(4, decoders * 2));
        var decoded = Channel.CreateBounded<Decoded>(new BoundedChannelOptions(Math.Max(batch, runs * options.QueueDepthPerRun * batch)) { SingleWriter = false });
        var results = Channel.CreateBounded<PipelineResult>(Math.Max(16, runs * batch * 2));

        // Decoded pixels (~1 MB an image at 640×480) come from a pool of this run's own: new arrays for every image kept
        // the GC busy collecting the large-object heap, on the cores inference needs. The run's own (not the shared
        // pool) so pixels never reach other code and the arrays go when the run ends; images over 16 MB are not pooled.
        var pixels = ArrayPool<byte>.Create(maxArrayLength: 16 << 20, maxArraysPerBucket: decoders * 2 + runs * batch * (options.QueueDepthPerRun + 1));

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = linked.Token;

        var producer = Task.Run(async () =>
        {
            try { foreach (var item in items) await pending.Writer.WriteAsync(item, token); }
            finally { pending.Writer.TryComplete(); }
        }, token);

        var decodeWorkers = Enumerable.Range(0, decoders).Select(_ => Task.Run(async () =>
        {
            await foreach (var item in pending.Reader.ReadAllAsync(token))
            {
                long start = Stopwatch.GetTimestamp();
                if (item.Regions is { } regions) { await QueueRegions(item, regions, token); continue; }
                try
                {
                    byte[] bytes = await item.ReadAsync(token);
                    var image = ImageTransforms.DecodeUpright(bytes, pixels); // returned after preprocessing
                    stats.AddDecode(Stopwatch.GetTimestamp() - start);
                    if (options.Tiling.Applies(image.Width, image.Height, detector.Spec)) await QueueSlices(item, image, token);
                    else await decoded.Writer.WriteAsync(new Decoded(item, image), token);
                }
                catch (Exception e) when (e is InvalidImageException or IOException or UnauthorizedAccessException or FileNotFoundException)
                {
                    stats.AddDecode(Stopwatch.GetTimestamp() - start);
                    await results.Writer.WriteAsync(new PipelineResult(item, 0, 0, null, e.Message), token);
                }
            }
        }, token)).ToArray();
        // Slices are cut one at a time as the bounded queue takes them, so a large image costs its own pixels plus
        // the queue's depth in slices. The whole-image pass goes last: it owns the pixels (they go back to the pool
        // when it is preprocessed), so they must not be read for slices after that.
        async Task QueueSlices(PipelineItem item, RgbImage image, CancellationToken token)
        {
            var spec = detector.Spec;
            var slices = SliceGrid.Plan(image.Width, image.Height, spec.InputWidth, spec.InputHeight, options.Tiling.Overlap);
            bool whole = options.Tiling.WholeImagePass && slices.Count > 1;
            var tiled = new TiledImage(item, image.Width, image.Height, slices, slices.Count + (whole ? 1 : 0), Merge(spec));
            foreach (var slice in slices) await decoded.Writer.WriteAsync(new Decoded(item, SliceGrid.Cut(image, slice, pixels), tiled, slice), token);
            if (whole) await decoded.Writer.WriteAsync(new Decoded(item, image, tiled), token);
            else pixels.Return(image.Pixels);
        }
        // An image read by regions is never decoded whole: its slices are read one at a time as the queue takes them,
        // its whole-image pass (or its only pass, tiling off) runs on an overview. A read failing part-way fails the
        // image: the units not yet queued are reported failed, so its result still comes out once.
        async Task QueueRegions(PipelineItem item, IRegionSource regions, CancellationToken token)
        {
            var spec = detector.Spec;
            int modelSide = Math.Max(spec.InputWidth, spec.InputHeight);
            long start = Stopwatch.GetTimestamp();
            TiledImage? tiled = null;
            int queued = 0;
            try
            {
                if (!options.Tiling.Applies(regions.Width, regions.Height, spec))
                {
                    var overview = await regions.OverviewAsync(modelSide, pixels, token);
                    stats.AddDecode(Stopwatch.GetTimestamp() - start);
                    await decoded.Writer.WriteAsync(new Decoded(item, overview, Full: (regions.Width, regions.Height)), token);
                    return;
                }
                var slices = SliceGrid.Plan(regions.Width, regions.Height, spec.InputWidth, spec.InputHeight, options.Tiling.Overlap);
                bool whole = options.Tiling.WholeImagePass && slices.Count > 1;
                tiled = new TiledImage(item, regions.Width, regions.Height, slices, slices.Count + (whole ? 1 : 0), Merge(spec));
                foreach (var slice in slices)
                {
                    var image = await regions.ReadAsync(slice, pixels, token);
                    await decoded.Writer.WriteAsync(new Decoded(item, image, tiled, slice), token);
                    queued++;
                }
                if (whole)
                {
                    var overview = await regions.OverviewAsync(modelSide, pixels, token);
                    await decoded.Writer.WriteAsync(new Decoded(item, overview, tiled, Full: (regions.Width, regions.Height)), token);
                }
                stats.AddDecode(Stopwatch.GetTimestamp() - start);
            }
            catch (Exception e) when (e is InvalidImageException or IOException or UnauthorizedAccessException)
            {
                stats.AddDecode(Stopwatch.GetTimestamp() - start);
                string error = $"reading the image's regions: {e.Message}";
                if (tiled is null) { await results.Writer.WriteAsync(new PipelineResult(item, regions.Width, regions.Height, null, error), token); return; }
                int units = tiled.Units;
                for (int i = queued; i < units; i++)
                    if (tiled.Report(null, null, error) is { } failed) await results.Writer.WriteAsync(failed, token);
            }
            finally { regions.Dispose(); } // every unit is read (the pixels are in the queue): its temporary file can go
        }

        MergeOptions Merge(ModelSpec spec) => new()
        {
            Iou = detection.Iou ?? spec.DefaultIou, MaxDetections = detection.MaxDetections, Polygons = detection.Polygons,
            WholeImageMinSide = (float)(Math.Min(spec.InputWidth, spec.InputHeight) * (1 - options.Tiling.Overlap)),
        };
        var decodersDone = Task.WhenAll(decodeWorkers).ContinueWith(t => decoded.Writer.TryComplete(t.Exception), TaskScheduler.Default);

        var inferenceWorkers = Enumerable.Range(0, runs).Select(_ => Task.Run(async () =>
        {
            var buffers = detector.CreateBuffers(batch);
            var group = new List<Decoded>(batch);
            var geometry = new LetterboxGeometry[batch];
            while (await decoded.Reader.WaitToReadAsync(token))
            {
                group.Clear();
                await FillBatch(decoded.Reader, group, batch, detector.Spec.FixedBatch is null ? options.BatchWait : TimeSpan.Zero, token);
                if (group.Count > 0) await RunChunk(group);
            }

            async Task RunChunk(List<Decoded> chunk)
            {
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < chunk.Count; i++)
                {
                    geometry[i] = detector.Preprocess(chunk[i].Image, buffers.Slot(i, detector.SlotLength));
                    pixels.Return(chunk[i].Image.Pixels); // only the size is read after this point
                }
                long preprocessed = Stopwatch.GetTimestamp();
                stats.AddPreprocess(preprocessed - start);
                try
                {
                    // A fixed-batch model always runs its full size; a short last batch leaves unused slots.
                    detector.Run(buffers, detector.Spec.FixedBatch ?? chunk.Count);
                    stats.Ran();
                }
                catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ArgumentException)
                {
                    foreach (var d in chunk) await Report(d, null, "inference failed: " + e.Message);
                    return;
                }
                long inferred = Stopwatch.GetTimestamp();
                stats.AddInference(inferred - preprocessed);
                for (int i = 0; i < chunk.Count; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    var unit = chunk[i];
                    var placement = unit is { Tiled: { } t, Slice: { } s } ? new SlicePlacement(s.X, s.Y, t.Width, t.Height) : (SlicePlacement?)null;
                    var found = detector.Postprocess(buffers, i, geometry[i], detection, placement);
                    if (unit.Full is { } full) found = OverviewScale.ToFull(found, unit.Image.Width, unit.Image.Height, full.Width, full.Height);
                    stats.AddPostprocess(Stopwatch.GetTimestamp() - t0);
                    await Report(unit, found, null);
                }
            }

            ValueTask Report(Decoded unit, List<Detection>? found, string? error)
            {
                if (unit.Tiled is null)
                    return results.Writer.WriteAsync(new PipelineResult(unit.Item, unit.Full?.Width ?? unit.Image.Width, unit.Full?.Height ?? unit.Image.Height, found, error), token);
                long t0 = Stopwatch.GetTimestamp();
                var merged = unit.Tiled.Report(unit.Slice, found, error); // the image's result once its last unit is in
                stats.AddPostprocess(Stopwatch.GetTimestamp() - t0);
                return merged is null ? ValueTask.CompletedTask : results.Writer.WriteAsync(merged, token);
            }
        }, token)).ToArray();
        var inferenceDone = Task.WhenAll(inferenceWorkers).ContinueWith(t => results.Writer.TryComplete(t.Exception), TaskScheduler.Default);

        try
        {
            await foreach (var result in results.Reader.ReadAllAsync(token))
            {
                stats.Done(result.Error is not null);
                await onResult(result);
            }
            await Task.WhenAll(producer, decodersDone, inferenceDone);
            await Task.WhenAll(decodeWorkers.Concat(inferenceWorkers)); // surface worker exceptions
        }
        catch
        {
            await linked.CancelAsync();
            // Never return while a worker may still be inside session.Run: the caller may dispose the model next.
            try { await Task.WhenAll(decodeWorkers.Concat(inferenceWorkers).Append(producer)); }
            catch (Exception) { /* their cancellation is expected; the original exception is what matters */ }
            throw;
        }
    }

    /// <summary>Takes one item, then more up to <paramref name="size"/>, waiting at most <paramref name="wait"/> for stragglers.</summary>
    private static async Task FillBatch<T>(ChannelReader<T> reader, List<T> group, int size, TimeSpan wait, CancellationToken ct)
    {
        while (group.Count < size && reader.TryRead(out var item)) group.Add(item);
        if (group.Count == 0 || group.Count == size || wait <= TimeSpan.Zero) return;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(wait);
        try
        {
            while (group.Count < size && await reader.WaitToReadAsync(timeout.Token))
                while (group.Count < size && reader.TryRead(out var item)) group.Add(item);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
    }
}
