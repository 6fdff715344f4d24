using System.Diagnostics;
using Microsoft.Extensions.Caching.Memory;
using OpenCvSharp;
using OpenCvSharp.Segmentation;
using VisionLabel.Imaging;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.ModelLoop.Scissors;

/// <summary>
/// Intelligent scissors (live-wire; docs/models-in-the-loop.md): OpenCV's IntelligentScissorsMB (Mortensen–Barrett)
/// on a window of at most <see cref="WindowSide"/> px centred on the anchor. Building the anchor's map of optimal paths is
/// the costly part (decode, features, Dijkstra over the window); the editor asks again for every mouse move with the
/// same anchor, so built maps are kept briefly in memory, keyed by image and anchor, and a hover costs one path lookup.
/// </summary>
public sealed class LiveWire(IBlobStore blobs, Microsoft.Extensions.Options.IOptions<Common.ImageIntakeOptions> images, ILogger<LiveWire> log) : IDisposable
{
    public const int WindowSide = 512, MaxTargets = 64;
    // A map holds the window's features and paths natively (a few MB at 512²): a handful of anchors, for a minute.
    private const int CachedMaps = 16;
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(1);
    private readonly MemoryCache _maps = new(new MemoryCacheOptions { SizeLimit = CachedMaps });

    /// <summary>The window centred on the anchor, moved inside the image (and as large as the image where it is smaller).</summary>
    public static ScissorsWindow WindowAround(int ax, int ay, int width, int height)
    {
        int w = Math.Min(WindowSide, width), h = Math.Min(WindowSide, height);
        return new ScissorsWindow(Math.Clamp(ax - WindowSide / 2, 0, width - w), Math.Clamp(ay - WindowSide / 2, 0, height - h), w, h);
    }

    /// <param name="anchor">In image pixels, inside the image.</param>
    /// <param name="targets">In image pixels, inside <see cref="WindowAround"/> the anchor (the route checks both).</param>
    public async Task<(ScissorsResult? Result, SegmentRefusal? Refusal)> TraceAsync(Image image, (int X, int Y) anchor, IReadOnlyList<(int X, int Y)> targets, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var key = (image.Id, anchor.X, anchor.Y);
        bool built = false;
        if (!_maps.TryGetValue(key, out PathMap? map) || map is null)
        {
            (map, var refusal) = await BuildAsync(image, anchor, ct);
            if (map is null) return (null, refusal);
            _maps.Set(key, map, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = Idle }
                .RegisterPostEvictionCallback(static (_, value, _, _) => ((PathMap)value!).Dispose()));
            built = true;
        }
        var paths = map.Paths(targets);
        if (paths is null)
        {
            // Evicted (and disposed) while in use, e.g. the cache full of other anchors: a map for this request alone.
            (var own, var refusal) = await BuildAsync(image, anchor, ct);
            if (own is null) return (null, refusal);
            using (own) paths = own.Paths(targets)!;
            built = true;
        }
        double ms = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1);
        log.LogInformation("Scissors: image {ImageId}, anchor ({X}, {Y}), {Built} map, {Count} path(s) in {Ms:F1} ms", image.Id, anchor.X, anchor.Y,
            built ? "new" : "cached", targets.Count, ms);
        return (new ScissorsResult(paths, map.Window, ms), null);
    }

    private async Task<(PathMap? Map, SegmentRefusal? Refusal)> BuildAsync(Image image, (int X, int Y) anchor, CancellationToken ct)
    {
        var (upright, refusal) = await UprightImage.LoadAsync(blobs, image, images.Value, ct);
        if (upright is null) return (null, refusal);
        var window = WindowAround(anchor.X, anchor.Y, upright.Width, upright.Height);
        RgbImage pixels;
        try { pixels = await upright.RegionAsync(window.X, window.Y, window.Width, window.Height, ct); }
        catch (InvalidImageException e) { return (null, new SegmentRefusal(409, "Image file unreadable", $"The image's tiles could not be read ({e.Message}).")); }
        try { return (PathMap.Build(pixels, window, anchor), null); }
        catch (OpenCVException e)
        {
            log.LogWarning(e, "Scissors: no map for image {ImageId} at ({X}, {Y})", image.Id, anchor.X, anchor.Y);
            return (null, new SegmentRefusal(422, "Tracing failed", $"OpenCV could not trace this window ({e.Message})."));
        }
    }

    public void Dispose() => _maps.Dispose();

    /// <summary>The anchor's map of optimal paths over its window; one request reads it at a time.</summary>
    private sealed class PathMap(IntelligentScissorsMB tool, ScissorsWindow window) : IDisposable
    {
        private readonly Lock _gate = new();
        private bool _disposed;
        public ScissorsWindow Window => window;

        /// <param name="pixels">The window's pixels (window-sized).</param>
        public static PathMap Build(RgbImage pixels, ScissorsWindow window, (int X, int Y) anchor)
        {
            using var mat = Mat.FromPixelData(window.Height, window.Width, MatType.CV_8UC3, pixels.Pixels);
            var tool = new IntelligentScissorsMB();
            try
            {
                // OpenCV's own example settings: Canny edges (better than zero-crossings on colour photos, its docs say)
                // and gradients above 200 all equally cheap, so one high-contrast edge does not capture every path.
                tool.SetEdgeFeatureCannyParameters(32, 100);
                tool.SetGradientMagnitudeMaxLimit(200);
                tool.ApplyImage(mat);
                tool.BuildMap(new Point(anchor.X - window.X, anchor.Y - window.Y));
                return new PathMap(tool, window);
            }
            catch
            {
                tool.Dispose();
                throw;
            }
        }

        /// <returns>Null when the map was disposed meanwhile (evicted from the cache).</returns>
        public List<int[]>? Paths(IReadOnlyList<(int X, int Y)> targets)
        {
            lock (_gate)
            {
                if (_disposed) return null;
                var paths = new List<int[]>(targets.Count);
                using var contour = new Mat();
                foreach (var (tx, ty) in targets)
                {
                    tool.GetContour(new Point(tx - window.X, ty - window.Y), contour);
                    Point[] points = [];
                    if (!contour.Empty()) contour.GetArray(out points);
                    var flat = new int[points.Length * 2];
                    for (int i = 0; i < points.Length; i++) { flat[2 * i] = points[i].X + window.X; flat[2 * i + 1] = points[i].Y + window.Y; }
                    paths.Add(flat);
                }
                return paths;
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_disposed) return;
                _disposed = true;
                tool.Dispose();
            }
        }
    }
}
