using System.Globalization;
using CsvHelper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Analytics;

/// <summary>People analytics (docs/analytics.md): active time from the editor's events, and each person's KPIs.</summary>
public static class AnalyticsApi
{
    public static IServiceCollection AddAnalytics(this IServiceCollection services) =>
        services.AddScoped<PeopleAnalytics>().AddScoped<Tallies>().AddScoped<AnnotatorBias>().AddScoped<IActivityObserver, ActiveTimeTracker>();

    public static IEndpointRouteBuilder MapAnalyticsApi(this IEndpointRouteBuilder app)
    {
        var project = app.MapGroup("/api/projects/{projectId:guid}/analytics").WithTags("Analytics");
        project.MapGet("/people", People).RequireProjectRole(ProjectRole.Annotator).WithDescription(
            "Each person's KPIs over ?from= and ?to= (ISO dates or instants, UTC; a bare date in `to` includes that day) and ?guidelineVersion=: images submitted, " +
            "objects created and edited (per active hour, per label), active time, mean active time per image, first-pass acceptance, rework rounds and reject reasons, " +
            "GT F1, consensus agreement, skip rate, turnaround medians, and flags worth a look (docs/analytics.md). Owners see everyone; others their own row. ?format=csv for a CSV of the same.");
        project.MapGet("/bias", Bias).RequireProjectRole(ProjectRole.Annotator).WithDescription(
            "Annotator bias: each person's label mix and box sizes (as submitted) against the rest of the project, by Pearson's chi-square test of homogeneity " +
            "(p-value, and the labels that drive it: standardised residual above 2), the label confusions with others on images several people labelled (consensus), " +
            "and flags worth a look at ?alpha= (default 0.001) for people with at least ?minObjects= (default 20) objects. Owners see everyone; others their own row.");
        return app;
    }

    private static async Task<Results<Ok<BiasReport>, ValidationProblem, ProblemHttpResult>> Bias(Guid projectId, double? alpha, int? minObjects, HttpContext context,
        VisionLabelDb db, AnnotatorBias bias, CancellationToken ct)
    {
        if (alpha is { } a && (!double.IsFinite(a) || a <= 0 || a >= 1)) return Problems.Invalid("alpha", $"is a significance level above 0 and below 1, not {a}");
        if (minObjects is < 1 or > 1_000_000) return Problems.Invalid("minObjects", $"must be between 1 and 1,000,000, not {minObjects}");
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        string? only = OwnRowUnlessOwner(context);
        return TypedResults.Ok(await bias.ReportAsync(projectId, alpha ?? 0.001, minObjects ?? 20, only, ct));
    }

    private static async Task<Results<Ok<PeopleReport>, FileContentHttpResult, ValidationProblem, ProblemHttpResult>> People(Guid projectId, string? from, string? to,
        string? guidelineVersion, string? format, HttpContext context, VisionLabelDb db, PeopleAnalytics analytics, CancellationToken ct)
    {
        if (!TryInstant(from, endOfDay: false, out var lo)) return Problems.Invalid("from", $"'{from}' is not a date (2026-12-07) or an instant (2026-12-07T09:00:00Z)");
        if (!TryInstant(to, endOfDay: true, out var hi)) return Problems.Invalid("to", $"'{to}' is not a date (2026-12-07) or an instant (2026-12-07T17:00:00Z)");
        if (lo is not null && hi is not null && hi <= lo) return Problems.Invalid("to", "must be after from");
        if (format is not (null or "json" or "csv")) return Problems.Invalid("format", $"'{format}' is not json or csv");
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null) return Problems.NotFound("Project", projectId);
        string? only = OwnRowUnlessOwner(context);
        var report = await analytics.ReportAsync(project, lo, hi, string.IsNullOrWhiteSpace(guidelineVersion) ? null : guidelineVersion.Trim(), only, ct);
        if (format != "csv") return TypedResults.Ok(report);
        return TypedResults.File(Csv(report), "text/csv; charset=utf-8", $"{project.Name}-people.csv");
    }

    /// <summary>Figures about people: owners see everyone's (null), everyone else only their own.</summary>
    private static string? OwnRowUnlessOwner(HttpContext context) => context.Access().Role >= ProjectRole.Owner ? null : context.Caller().UserName;

    private static bool TryInstant(string? text, bool endOfDay, out DateTime? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        if (DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            value = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc).AddDays(endOfDay ? 1 : 0);
            return true;
        }
        if (!DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant)) return false;
        value = instant.UtcDateTime;
        return true;
    }

    /// <summary>One row per person; cells that would start a spreadsheet formula are escaped (CsvHelper's injection option).</summary>
    public static byte[] Csv(PeopleReport report)
    {
        using var buffer = new MemoryStream();
        using (var writer = new StreamWriter(buffer, new System.Text.UTF8Encoding(false)))
        using (var csv = CsvWriter.Create(writer, new CsvWriterOptions { Injection = CsvInjection.Escape }, true))
        {
            csv.WriteRecord(["user", "imagesSubmitted", "objectsCreated", "objectsEdited", "activeSeconds", "objectsPerActiveHour", "meanActiveSecondsPerImage",
                "firstPassReviewed", "firstPassAcceptance", "reworkRounds", "rejectReasons", "gtF1", "agreement", "leases", "skips", "skipRate",
                "medianLeaseToSubmitSeconds", "medianSubmitToApprovedSeconds", "proposalsDecided", "proposalsAcceptedUnchanged", "flags"]);
            foreach (var p in report.People)
            {
                object?[] cells = [p.User, p.ImagesSubmitted, p.ObjectsCreated, p.ObjectsEdited, p.ActiveSeconds, p.ObjectsPerActiveHour, p.MeanActiveSecondsPerImage,
                    p.FirstPassReviewed, p.FirstPassAcceptance, p.ReworkRounds, string.Join("; ", p.RejectReasons.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key}: {r.Value}")),
                    p.GtF1, p.Agreement, p.Leases, p.Skips, p.SkipRate, p.MedianLeaseToSubmitSeconds, p.MedianSubmitToApprovedSeconds,
                    p.ProposalsDecided, p.ProposalsAcceptedUnchanged, string.Join("; ", p.Flags)];
                csv.WriteRecord(cells.Select(c => c switch { null => "", double d => d.ToString("R", CultureInfo.InvariantCulture), _ => Convert.ToString(c, CultureInfo.InvariantCulture) ?? "" }).ToArray());
            }
            csv.Flush();
        }
        return buffer.ToArray();
    }
}
