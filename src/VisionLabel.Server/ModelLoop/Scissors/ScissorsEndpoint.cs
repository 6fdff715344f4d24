using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.ModelLoop.Scissors;

/// <summary>POST /api/images/{imageId}/scissors: the live-wire from an anchor to each target (docs/models-in-the-loop.md).</summary>
public static class ScissorsEndpoint
{
    public const string Description =
        "Scissors (live-wire): {anchor: {x, y}, targets: [{x, y}, …]} in image pixels, at most 64 targets, each within the 512 px window centred on the anchor " +
        "(moved inside the image). Answers {paths: one [x0, y0, x1, y1, …] per target, pixel columns and rows from the anchor's pixel to the target's along " +
        "the strongest edges (OpenCV's intelligent scissors), window: {x, y, width, height}, ms}. The anchor's map is kept briefly: more targets from the same anchor are cheap.";

    public static async Task<Results<Ok<ScissorsResult>, ValidationProblem, ProblemHttpResult>> Trace(Guid imageId, ScissorsRequest request, VisionLabelDb db,
        LiveWire liveWire, CancellationToken ct)
    {
        if (request.Anchor is not { } a || !double.IsFinite(a.X) || !double.IsFinite(a.Y))
            return Problems.Invalid("anchor", "give the anchor as {x, y} in image pixels");
        if (request.Targets is not { Count: > 0 } targets || targets.Count > LiveWire.MaxTargets)
            return Problems.Invalid("targets", $"give 1 to {LiveWire.MaxTargets} targets as [{{x, y}}, …], not {request.Targets?.Count ?? 0}");
        var image = await db.Images.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, ct);
        if (image is null) return Problems.NotFound("Image", imageId);
        if (a.X < 0 || a.Y < 0 || a.X >= image.Width || a.Y >= image.Height)
            return Problems.Invalid("anchor", $"must lie inside the image (0 ≤ x < {image.Width}, 0 ≤ y < {image.Height})");
        var anchor = ((int)a.X, (int)a.Y);
        var window = LiveWire.WindowAround(anchor.Item1, anchor.Item2, image.Width, image.Height);
        var pixels = new List<(int X, int Y)>(targets.Count);
        for (int i = 0; i < targets.Count; i++)
        {
            if (targets[i] is not { } t || !double.IsFinite(t.X) || !double.IsFinite(t.Y)
                || t.X < window.X || t.Y < window.Y || t.X >= window.X + window.Width || t.Y >= window.Y + window.Height)
                return Problems.Invalid($"targets[{i}]", $"must lie within the anchor's window (x {window.X} to {window.X + window.Width}, y {window.Y} to {window.Y + window.Height}, " +
                    $"excluded): set a new anchor nearer to it");
            pixels.Add(((int)t.X, (int)t.Y));
        }
        var (result, refusal) = await liveWire.TraceAsync(image, anchor, pixels, ct);
        if (refusal is not null) return TypedResults.Problem(statusCode: refusal.Status, title: refusal.Title, detail: refusal.Detail);
        return TypedResults.Ok(result!);
    }
}
