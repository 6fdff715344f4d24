using Microsoft.AspNetCore.Http.HttpResults;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>An image's history from its op log (docs/realtime-protocol.md, "History"): who did what when, and the state after any op.</summary>
public static class HistoryApi
{
    public const int DefaultLimit = 100, MaxLimit = 500;

    public static IEndpointRouteBuilder MapHistoryApi(this IEndpointRouteBuilder app)
    {
        // Viewers read it, as they read the annotations: the history shows nothing the live editor did not show them.
        var group = app.MapGroup("/api/images/{imageId:guid}/history").WithTags("Annotations");
        group.MapGet("/", List).RequireProjectRole(ProjectRole.Viewer).WithDescription(
            $"The image's op log as people read it, newest first (?before=SEQ for older ones, ?limit= 1–{MaxLimit}, default {DefaultLimit}): " +
            "each op's seq, time, author, type, annotation (its label and kind then) and what it did in a few words; nextBefore pages on (null at the first op).");
        group.MapGet("/{seq:long}/state", State).RequireProjectRole(ProjectRole.Viewer).WithDescription(
            "The image's annotations right after op seq was applied, replayed from the log (id, labelId, kind, geometry, attributes, state, source " +
            "as the annotations list has them); 404 when the log has no such op.");
        return app;
    }

    private static async Task<Results<Ok<HistoryPage>, ValidationProblem, ProblemHttpResult>> List(Guid imageId, long? before, int? limit, VisionLabelDb db, CancellationToken ct)
    {
        if (limit is < 1 or > MaxLimit) return Problems.Invalid("limit", $"must be between 1 and {MaxLimit}, not {limit}");
        if (before is < 1) return Problems.Invalid("before", $"is the seq to read ops before (nextBefore of the previous page), at least 1, not {before}");
        if (await ImageHistory.ProjectOfAsync(db, imageId, ct) is not { } projectId) return Problems.NotFound("Image", imageId);
        return TypedResults.Ok(await ImageHistory.PageAsync(db, imageId, projectId, before, limit ?? DefaultLimit, ct));
    }

    private static async Task<Results<Ok<HistoryState>, ValidationProblem, ProblemHttpResult>> State(Guid imageId, long seq, VisionLabelDb db, CancellationToken ct)
    {
        if (seq < 1) return Problems.Invalid("seq", $"ops are numbered from 1, not {seq}");
        if (await ImageHistory.ProjectOfAsync(db, imageId, ct) is null) return Problems.NotFound("Image", imageId);
        if (await ImageHistory.StateAsync(db, imageId, seq, ct) is { } state) return TypedResults.Ok(state);
        long last = await AnnotationReads.CurrentSeqAsync(db, imageId, ct);
        return TypedResults.Problem(statusCode: 404, title: "Op not found",
            detail: last == 0 ? $"Image {imageId} has no ops yet." : $"Image {imageId}'s log has ops 1 to {last}; there is no op {seq}.");
    }
}
