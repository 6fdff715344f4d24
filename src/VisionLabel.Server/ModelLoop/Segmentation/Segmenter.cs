using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Imaging;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Storage;
using VisionLabel.Shapes;

namespace VisionLabel.Server.ModelLoop;

/// <summary>What a segment request could not do, as the route answers it.</summary>
public sealed record SegmentRefusal(int Status, string Title, string Detail, string? Field = null);

/// <summary>
/// Box → mask and click → mask (docs/models-in-the-loop.md): crops the image around the prompt and runs the project's
/// segmentation model or GrabCut on the crop; the mask comes back at image size with its outlines. Each method's
/// latency is logged.
/// </summary>
public sealed class Segmenter(VisionLabelDb db, IBlobStore blobs, DetectorCache detectors, Microsoft.Extensions.Options.IOptions<Common.ImageIntakeOptions> images, ILogger<Segmenter> log)
{
    public async Task<(SegmentResult? Result, SegmentRefusal? Refusal)> SegmentAsync(Image image, SegmentMethod method, Prompt prompt, Guid? modelId, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        DetectionModel? model = null;
        if (method != SegmentMethod.Grabcut)
        {
            model = await SegmentationModelAsync(image.ProjectId, modelId, ct);
            if (modelId is not null && model is null)
                return (null, new SegmentRefusal(400, "Not a segmentation model", $"Model {modelId} does not exist or is not a segmentation model (a YOLO -seg export).", "modelId"));
            if (model is null && method == SegmentMethod.Model)
                return (null, new SegmentRefusal(409, "No segmentation model", "The project has no segmentation model: upload a YOLO -seg export and map it to the project, or use method grabcut."));
        }
        var (upright, unreadable) = await UprightImage.LoadAsync(blobs, image, images.Value, ct);
        if (upright is null) return (null, unreadable);
        MaskWindow? window = null;
        string used = "grabcut";
        if (model is not null)
        {
            // The model sees more context than GrabCut (a detector finds objects among their surroundings).
            var (mx, my, mw, mh) = CropAround(prompt, upright.Width, upright.Height, boxMargin: 0.25);
            try
            {
                using var lease = await detectors.LeaseAsync(model, ct);
                window = ModelSegmenter.Segment(lease.Detector, await upright.RegionAsync(mx, my, mw, mh, ct), prompt.Shift(mx, my));
            }
            catch (InvalidImageException e) when (method == SegmentMethod.Model)
            {
                return (null, new SegmentRefusal(409, "Image file unreadable", $"The image's tiles could not be read ({e.Message})."));
            }
            catch (Exception e) when (method == SegmentMethod.Auto && e is not OperationCanceledException)
            {
                // auto means "the model, else GrabCut": a model that cannot load or run is an "else".
                log.LogWarning(e, "Segment: model {Model} failed on image {ImageId}; GrabCut instead", model.Name, image.Id);
            }
            if (window is not null)
            {
                used = "model";
                window = window with { X0 = window.X0 + mx, Y0 = window.Y0 + my };
            }
            log.LogInformation("Segment: model {Model} on image {ImageId} {Outcome} in {Ms:F0} ms", model.Name, image.Id, window is null ? "found nothing" : "found an instance",
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        if (window is null && method == SegmentMethod.Model)
            return (null, new SegmentRefusal(422, "Nothing found", "The model found no instance that fits this prompt: try a tighter box, a click inside the object, or method grabcut."));
        if (window is null) // grabcut asked for, or (auto) the model found no instance that fits
        {
            var grabcutStarted = Stopwatch.GetTimestamp();
            var (cx, cy, cw, ch) = CropAround(prompt, upright.Width, upright.Height, boxMargin: 0.05);
            RgbImage crop;
            try { crop = await upright.RegionAsync(cx, cy, cw, ch, ct); }
            catch (InvalidImageException e) { return (null, new SegmentRefusal(409, "Image file unreadable", $"The image's tiles could not be read ({e.Message}).")); }
            window = GrabCutSegmenter.Segment(crop, prompt.Shift(cx, cy));
            if (window is null)
                return (null, new SegmentRefusal(422, "Nothing left to segment", "The prompt leaves no pixel that could be the object (do negative points cover the box?): take some back, or draw a larger box."));
            window = window with { X0 = window.X0 + cx, Y0 = window.Y0 + cy };
            log.LogInformation("Segment: grabcut on image {ImageId} ({W}×{H} crop) in {Ms:F0} ms", image.Id, cw, ch, Stopwatch.GetElapsedTime(grabcutStarted).TotalMilliseconds);
        }
        int x0 = window.X0, y0 = window.Y0; // in image pixels now
        var polygon = MaskContours.Trace(window.Pixels, window.Width, window.Height, x0, y0);
        if (polygon.Count == 0) // nothing, or a speck too small to outline
            return (null, new SegmentRefusal(422, "Nothing found", "No object was found for this prompt: try a tighter box, or click inside the object."));
        var counts = CocoRle.FromWindow(window.Pixels, x0, y0, window.Width, window.Height, upright.Width, upright.Height);
        double ms = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1);
        return (new SegmentResult(new SegmentMask([upright.Height, upright.Width], CocoRle.Encode(counts)), polygon, used, window.Score, ms), null);
    }

    /// <summary>The model asked for (when it segments), else the project's: the latest mapped segmentation model, else one
    /// whose proposals the project has.</summary>
    private async Task<DetectionModel?> SegmentationModelAsync(Guid projectId, Guid? modelId, CancellationToken ct)
    {
        if (modelId is { } id) return await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id && m.Task == "segment", ct);
        var mapped = db.ModelMappings.Where(m => m.ProjectId == projectId);
        var model = await db.Models.AsNoTracking().Where(m => m.Task == "segment" && mapped.Any(x => x.ModelId == m.Id)).OrderByDescending(m => m.CreatedAt).FirstOrDefaultAsync(ct);
        if (model is not null) return model;
        var proposing = db.ProposalOutcomes.Where(p => p.ProjectId == projectId).Select(p => p.ModelId).Distinct();
        var candidates = await db.Models.AsNoTracking().Where(m => m.Task == "segment").OrderByDescending(m => m.CreatedAt).Take(20).ToListAsync(ct);
        var used = (await proposing.Take(100).ToListAsync(ct)).ToHashSet();
        return candidates.FirstOrDefault(m => used.Contains(m.Id.ToString()));
    }

    /// <summary>The crop: the prompt's bounds plus a margin (<paramref name="boxMargin"/> of its size, at least 16 px:
    /// GrabCut does best with little (5%), the model with more context (25%); measured on coco128-seg); points alone get a wider
    /// window (a fifth of the image's longer side, at least 64 px, around them), as the object's extent is unknown.</summary>
    internal static (int X, int Y, int W, int H) CropAround(Prompt prompt, int width, int height, double boxMargin)
    {
        var (x0, y0, x1, y1) = prompt.Bounds();
        double margin = prompt.Box is not null ? Math.Max(16, boxMargin * Math.Max(x1 - x0, y1 - y0)) : Math.Max(64, 0.2 * Math.Max(width, height));
        int cx0 = Math.Clamp((int)Math.Floor(x0 - margin), 0, width - 1), cy0 = Math.Clamp((int)Math.Floor(y0 - margin), 0, height - 1);
        int cx1 = Math.Clamp((int)Math.Ceiling(x1 + margin), cx0 + 1, width), cy1 = Math.Clamp((int)Math.Ceiling(y1 + margin), cy0 + 1, height);
        return (cx0, cy0, cx1 - cx0, cy1 - cy0);
    }

}
