using System.IO.Compression;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Datasets;

/// <summary>
/// Writes a project as a zip in one format to any stream (an HTTP response or a file) as it goes: the zip is
/// never built in memory, and images and annotations are read a page at a time.
/// </summary>
public sealed class DatasetExport(VisionLabelDb db, IBlobStore blobs, Microsoft.Extensions.Options.IOptions<Common.ImageIntakeOptions> intake, Operations.ServerMetrics metrics)
{
    public async Task<ExportSummary> WriteAsync(Project project, IDatasetExporter format, ExportOptions options, Stream output, CancellationToken ct)
    {
        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == project.Id).ToListAsync(ct);
        var context = new ExportContext(db, blobs, project, ExportLabels(labels), options, intake.Value);
        var summary = context.Summary;
        summary.Format = format.Format;
        summary.Filter = new ExportFilter(ApiEnum.Name(options.Scope), options.States.Select(s => ApiEnum.Name(s)).ToList(), options.ImageStatuses?.Select(s => ApiEnum.Name(s)).ToList(),
            options.ImageIds?.Count, options.IncludeImages, options.IncludeScores, options.ValFraction, options.Seed, options.Slicing);
        var selected = context.SelectedImages().Select(i => i.Id);
        summary.AnnotationsByState = (await db.Annotations.AsNoTracking().Where(a => selected.Contains(a.ImageId))
                .GroupBy(a => a.State).Select(g => new { g.Key, Count = g.LongCount() }).ToListAsync(ct))
            .ToDictionary(g => ApiEnum.Name(g.Key), g => g.Count);
        summary.LeftOutByState = summary.AnnotationsByState.Where(s => !summary.Filter.States.Contains(s.Key)).ToDictionary();
        summary.LeftOutEmptyUnreviewed = await context.CandidateImages().CountAsync(ct) - await context.SelectedImages().CountAsync(ct);
        if (summary.LeftOutEmptyUnreviewed > 0)
            summary.Notes.Add($"{summary.LeftOutEmptyUnreviewed} image(s) nobody approved have nothing to export and were left out: an image without labels trains as background, which only a reviewer's approval may say");
        if (options.Scope == ExportScope.Approved && options.ImageStatuses is null)
            summary.Notes.Add("approved images only (the default); export with scope=all for every image (those nobody approved are then listed in unreviewedFiles)");
        if (summary.LeftOutByState.GetValueOrDefault("proposed") is > 0 and var proposed)
            summary.Notes.Add($"{proposed} proposed annotation(s) (model proposals nobody has reviewed) are not in this export; add proposed to states to include them");
        var target = new AsyncWriteStream(output);
        try
        {
            await using (var zip = await ZipArchive.CreateAsync(target, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, ct))
            {
                await format.WriteAsync(context, zip, ct);
                await ExportContext.WriteSummaryAsync(zip, context.Summary, ct);
            }
        }
        finally
        {
            await target.DisposeAsync();
            metrics.ExportBytes.Add(target.Position); // what reached the client, a broken-off download's part included
        }
        return context.Summary;
    }

    /// <summary>COCO ids: the imported one, else the next free one. YOLO indices: rank by (imported id, order).</summary>
    public static List<ExportLabel> ExportLabels(List<Label> labels)
    {
        var ordered = labels.OrderBy(l => l.ExternalId is null ? 1 : 0).ThenBy(l => l.ExternalId).ThenBy(l => l.Order).ThenBy(l => l.Name, StringComparer.Ordinal).ToList();
        int nextId = Math.Max(1, (labels.Max(l => l.ExternalId) ?? 0) + 1);
        var result = new List<ExportLabel>(ordered.Count);
        for (int i = 0; i < ordered.Count; i++)
        {
            var l = ordered[i];
            result.Add(new ExportLabel(l.Id, l.Name, l.ExternalId ?? nextId++, i, l.Supercategory, l.Attributes));
        }
        return result;
    }
}
