using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using VisionLabel.Imaging;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Health;
using VisionLabel.Server.Maintenance;
using VisionLabel.Server.Storage;
using VisionLabel.Server.Accounts;

namespace VisionLabel.Server.Images;

/// <summary>GET /api/projects/{projectId}/images: the project's images, a page at a time, with the grid's filters
/// (status, workflow stage, label, annotator, proposals, score range, file name, ids, flagged).</summary>
public static class ImageList
{
    /// <summary>The workflow stages the list filters by (WorkflowRules.StageName's names).</summary>
    private static readonly string[] Stages = ["annotate", "submitted", "in-review", "approved", "rejected", "rework"];
    /// <summary>What ?flagged= takes: from the latest health result (duplicate, outlier) or consensus (disagreement).</summary>
    private static readonly string[] Flags = ["duplicate", "outlier", "disagreement"];
    private const int MaxIds = 1000;
    /// <summary>Ids one query carries at most in a Contains (EF Core makes each a parameter; SQLite takes at most 32,766).</summary>
    private const int IdsPerQuery = 1000;

    public static async Task<Results<Ok<ImagePage>, ValidationProblem, ProblemHttpResult>> ListAsync(
        Guid projectId, string? status, int? offset, int? limit, string? stage, string? label, string? annotator, string? hasProposals,
        string? minScore, string? maxScore, string? fileName, string? ids, string? flagged, bool? archived, VisionLabelDb db, TimeProvider time, CancellationToken ct)
    {
        var agreementThreshold = await db.Projects.Where(p => p.Id == projectId).Select(p => (double?)p.AgreementThreshold).FirstOrDefaultAsync(ct);
        if (agreementThreshold is null) return Problems.NotFound("Project", projectId);
        int skip = offset ?? 0, take = limit ?? 100;
        if (skip < 0) return Problems.Invalid("offset", "offset must be 0 or more");
        if (take is < 1 or > 1000) return Problems.Invalid("limit", "limit must be between 1 and 1000");

        // A filter given empty (?fileName=) is no filter: a form's blank field narrows nothing.
        (stage, label, annotator, hasProposals, minScore, maxScore, fileName, ids, flagged) =
            (Given(stage), Given(label), Given(annotator), Given(hasProposals), Given(minScore), Given(maxScore), Given(fileName), Given(ids), Given(flagged));
        bool wantArchived = archived == true; // archived images are listed only when asked for, and then alone
        var query = db.Images.AsNoTracking().Where(i => i.ProjectId == projectId && (i.ArchivedAt != null) == wantArchived);
        if (status is not null)
        {
            if (!ApiEnum.TryParse<ImageStatus>(status, out var wanted))
                return Problems.Invalid("status", $"'{status}' is not an image status; use one of {ApiEnum.Names<ImageStatus>()}.");
            query = query.Where(i => i.Status == wanted);
        }
        if (stage is not null)
        {
            string name = stage.Trim().ToLowerInvariant();
            if (!Stages.Contains(name)) return Problems.Invalid("stage", $"'{stage}' is not a workflow stage; use one of {string.Join(", ", Stages)}.");
            // As WorkflowRules.StageName: the status, and for submitted and rejected images whether someone holds a lease now.
            var now = time.GetUtcNow().UtcDateTime;
            query = name switch
            {
                "annotate" => query.Where(i => i.Status != ImageStatus.Submitted && i.Status != ImageStatus.Approved && i.Status != ImageStatus.Rejected),
                "approved" => query.Where(i => i.Status == ImageStatus.Approved),
                "in-review" => query.Where(i => i.Status == ImageStatus.Submitted && i.LeaseHolder != null && i.LeaseExpiresAt > now),
                "submitted" => query.Where(i => i.Status == ImageStatus.Submitted && !(i.LeaseHolder != null && i.LeaseExpiresAt > now)),
                "rework" => query.Where(i => i.Status == ImageStatus.Rejected && i.LeaseHolder != null && i.LeaseExpiresAt > now),
                _ => query.Where(i => i.Status == ImageStatus.Rejected && !(i.LeaseHolder != null && i.LeaseExpiresAt > now)),
            };
        }
        if (label is not null)
        {
            if (!Guid.TryParse(label, out var labelId)) return Problems.Invalid("label", $"'{label}' is not a label id (a GUID from GET /api/projects/{{id}}/labels).");
            if (!await db.Labels.AnyAsync(l => l.Id == labelId && l.ProjectId == projectId, ct))
                return Problems.Invalid("label", $"This project has no label with id {labelId}.");
            query = query.Where(i => db.Annotations.Any(a => a.ImageId == i.Id && a.LabelId == labelId &&
                (a.State == AnnotationState.Accepted || a.State == AnnotationState.Proposed)));
        }
        if (annotator is not null)
        {
            string who = annotator.Trim();
            if (who.Length > 256) return Problems.Invalid("annotator", "annotator is a user name (at most 256 characters).");
            query = query.Where(i => i.SubmittedBy == who);
        }
        if (hasProposals is not null)
        {
            if (!bool.TryParse(hasProposals.Trim(), out bool proposals)) return Problems.Invalid("hasProposals", $"'{hasProposals}' is not true or false.");
            query = proposals
                ? query.Where(i => db.Annotations.Any(a => a.ImageId == i.Id && a.State == AnnotationState.Proposed))
                : query.Where(i => !db.Annotations.Any(a => a.ImageId == i.Id && a.State == AnnotationState.Proposed));
        }
        if (!TryScore(minScore, out double? min)) return Problems.Invalid("minScore", $"'{minScore}' is not a score between 0 and 1.");
        if (!TryScore(maxScore, out double? max)) return Problems.Invalid("maxScore", $"'{maxScore}' is not a score between 0 and 1.");
        if (min > max) return Problems.Invalid("maxScore", $"maxScore ({max}) is below minScore ({min}).");
        if (min is not null || max is not null)
        {
            double lo = min ?? 0, hi = max ?? 1;
            query = query.Where(i => db.Annotations.Any(a => a.ImageId == i.Id && a.Source == AnnotationSourceType.Model &&
                a.Score != null && a.Score >= lo && a.Score <= hi));
        }
        if (fileName is not null)
        {
            string part = fileName.Trim().ToLowerInvariant();
            if (part.Length > 255) return Problems.Invalid("fileName", "fileName is part of a file name (at most 255 characters).");
            query = query.Where(i => i.FileName.ToLower().Contains(part));
        }
        if (ids is not null)
        {
            var parts = ids.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length == 0) return Problems.Invalid("ids", "ids is a comma-separated list of image ids.");
            if (parts.Length > MaxIds) return Problems.Invalid("ids", $"at most {MaxIds} ids at once ({parts.Length} given).");
            var wanted = new List<Guid>(parts.Length);
            foreach (var part in parts)
            {
                if (!Guid.TryParse(part, out var id)) return Problems.Invalid("ids", $"'{part}' is not an image id (a GUID).");
                wanted.Add(id);
            }
            var set = wanted.Distinct().ToArray();
            query = query.Where(i => set.Contains(i.Id));
        }
        Guid[]? healthIds = null; // flagged by the latest health result: filtered after the rest (there may be many)
        if (flagged is not null)
        {
            string flag = flagged.Trim().ToLowerInvariant();
            if (!Flags.Contains(flag)) return Problems.Invalid("flagged", $"'{flagged}' is not a flag; use one of {string.Join(", ", Flags)}.");
            if (flag == "disagreement")
            {
                double threshold = agreementThreshold.Value;
                query = query.Where(i => i.NeedsAdjudication || (i.Agreement != null && i.Agreement < threshold));
            }
            else
            {
                var health = await HealthApi.LatestResultAsync(db, projectId, ct);
                healthIds = (flag == "duplicate"
                    ? health?.NearDuplicates.SelectMany(p => new[] { p.ImageA, p.ImageB })
                    : health?.BoxOutliers.Select(o => o.ImageId))?.Distinct().ToArray() ?? [];
                // Up to IdsPerQuery in one query (each id is a parameter); more: below, a chunk at a time.
                if (healthIds.Length <= IdsPerQuery)
                {
                    var set = healthIds;
                    query = query.Where(i => set.Contains(i.Id));
                    healthIds = null;
                }
            }
        }
        if (healthIds is not null) return TypedResults.Ok(await PageOfAsync(db, query, healthIds, skip, take, ct));
        int total = await query.CountAsync(ct);
        var items = await query.OrderBy(i => i.Id).Skip(skip).Take(take).ToListAsync(ct); // ids are v7: upload order
        return TypedResults.Ok(new ImagePage(items.Select(ImageDto.From).ToList(), total, skip, take));
    }

    /// <summary>
    /// A page of the images the query gives that are also among <paramref name="among"/> (more ids than one query should
    /// carry): the matching ids a chunk of IdsPerQuery at a time, in id order (.NET's Guid order is PostgreSQL's uuid
    /// order and SQLite's text order), then the page's images.
    /// </summary>
    private static async Task<ImagePage> PageOfAsync(VisionLabelDb db, IQueryable<Image> query, Guid[] among, int skip, int take, CancellationToken ct)
    {
        var matched = new List<Guid>();
        foreach (var chunk in among.Chunk(IdsPerQuery))
            matched.AddRange(await query.Where(i => chunk.Contains(i.Id)).Select(i => i.Id).ToListAsync(ct));
        matched.Sort();
        var page = matched.Skip(skip).Take(take).ToArray();
        var items = await db.Images.AsNoTracking().Where(i => page.Contains(i.Id)).OrderBy(i => i.Id).ToListAsync(ct);
        return new ImagePage(items.Select(ImageDto.From).ToList(), matched.Count, skip, take);
    }

    private static string? Given(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static bool TryScore(string? text, out double? score)
    {
        score = null;
        if (text is null) return true;
        if (!double.TryParse(text.Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value) ||
            !double.IsFinite(value) || value < 0 || value > 1) return false;
        score = value;
        return true;
    }
}
