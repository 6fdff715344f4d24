using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Datasets;

/// <summary>Export choices from their text forms, shared by GET …/export and the CLI's export verb.</summary>
public static class ExportChoices
{
    /// <summary>
    /// The zip's name says what is in it, so two downloads of one project with other choices do not overwrite each
    /// other: "shop-coco.zip" (approved images, accepted annotations), "shop-coco-all.zip", "shop-coco-with-proposals.zip",
    /// "shop-coco-submitted.zip", "shop-coco-3-images.zip", "shop-yolo-detect-val20.zip".
    /// </summary>
    public static string FileName(string project, string format, ExportOptions options)
    {
        var name = new System.Text.StringBuilder($"{project}-{format}");
        if (options.Scope == ExportScope.All && options.ImageStatuses is null) name.Append("-all");
        if (options.Scope == ExportScope.GroundTruth) name.Append("-ground-truth");
        if (options.States.Contains(AnnotationState.Proposed)) name.Append(options.States.Contains(AnnotationState.Accepted) ? "-with-proposals" : "-proposals-only");
        if (options.ImageStatuses is { Count: > 0 } statuses) name.Append('-').Append(string.Join('-', statuses.Select(ApiEnum.Name)));
        if (options.ImageIds is { Count: > 0 } ids) name.Append($"-{ids.Count}-image{(ids.Count == 1 ? "" : "s")}");
        if (options.ValFraction > 0) name.Append($"-val{Math.Round(options.ValFraction * 100)}");
        if (options.Slicing is { } slicing) name.Append($"-slices{slicing.Size}");
        return name.Append(".zip").ToString();
    }

    /// <summary>Export choices from their text forms (query string or CLI); the problem says which one is wrong.</summary>
    public static (ExportOptions?, string?) Parse(string? states, string? status, string? images, bool? includeImages, bool? scores, double? val, int? seed,
        string? scope = null, int? slice = null, double? sliceOverlap = null)
    {
        var options = new ExportOptions { IncludeImages = includeImages ?? true, IncludeScores = scores ?? false, ValFraction = val ?? 0, Seed = seed ?? 0 };
        if (scope is not null)
        {
            if (!ApiEnum.TryParse<ExportScope>(scope, out var s)) return (null, $"scope: '{scope}' is not one of approved (default), all, ground-truth");
            options.Scope = s;
        }
        if (!string.IsNullOrWhiteSpace(states))
        {
            options.States = [];
            foreach (var s in states.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (ApiEnum.TryParse<AnnotationState>(s, out var state) && state != AnnotationState.Rejected) options.States.Add(state);
                else return (null, $"states: '{s}' is not one of accepted, proposed");
        }
        if (!string.IsNullOrWhiteSpace(status))
        {
            options.ImageStatuses = [];
            foreach (var s in status.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (ApiEnum.TryParse<ImageStatus>(s, out var st)) options.ImageStatuses.Add(st);
                else return (null, $"status: '{s}' is not one of {ApiEnum.Names<ImageStatus>()}");
        }
        if (!string.IsNullOrWhiteSpace(images))
        {
            options.ImageIds = [];
            foreach (var s in images.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (Guid.TryParse(s, out var id) && id != Guid.Empty) options.ImageIds.Add(id);
                else return (null, $"images: '{s}' is not an image id");
        }
        if (slice is { } size)
        {
            if (size is < SliceExport.MinSize or > SliceExport.MaxSize) return (null, $"slice must be a side in pixels from {SliceExport.MinSize} to {SliceExport.MaxSize} (the model's input size, e.g. 640)");
            double overlap = sliceOverlap ?? 0.2;
            if (overlap is < 0 or > SliceExport.MaxOverlap || double.IsNaN(overlap)) return (null, $"sliceOverlap must be from 0 to {SliceExport.MaxOverlap} (the share of a slice its neighbour repeats)");
            options.Slicing = new SliceExport(size, overlap);
        }
        else if (sliceOverlap is not null) return (null, "sliceOverlap needs slice (the slice's side in pixels)");
        if (options.ValFraction is < 0 or >= 1 || double.IsNaN(options.ValFraction)) return (null, "val must be at least 0 and below 1 (the share of images put in the val split)");
        return (options, null);
    }
}
