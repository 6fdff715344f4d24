using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Datasets;

/// <param name="CocoId">The imported COCO category id, or the next free one.</param>
/// <param name="ClassIndex">YOLO class index: the label's rank by (imported id, order), so COCO's sparse ids 1..90
/// become 0..79 as Ultralytics numbers them, and imported YOLO indices stay what they were.</param>
/// <param name="Attributes">The label's attribute definitions (COCO writes each object's values, defaults filled in).</param>
public sealed record ExportLabel(Guid Id, string Name, int CocoId, int ClassIndex, string? Supercategory, IReadOnlyList<LabelAttribute> Attributes);

/// <param name="FileName">Unique within the export (a clash gets a numeric suffix).</param>
/// <param name="Split">"train" or "val".</param>
public sealed record ExportImage(Image Image, long CocoId, string FileName, string Split, IReadOnlyList<Annotation> Annotations);

/// <summary>
/// What went into an export and what did not; written into the zip as visionlabel-export.json and printed by the CLI.
/// The counts per state are over the selected images: what the project holds, what was exported, and what the
/// state filter left out (so an export without proposals says how many it left out).
/// </summary>
public sealed class ExportSummary
{
    public string Format { get; set; } = "";
    public ExportFilter Filter { get; set; } = new("approved", [], null, null, true, false, 0, 0);
    public int Images { get; set; }
    /// <summary>Slices written (a sliced YOLO export): each one an image and its label file.</summary>
    public long Slices { get; set; }
    public long Annotations { get; set; }
    /// <summary>Of the included states, left out because the format cannot hold them (e.g. crowd regions in YOLO).</summary>
    public long SkippedAnnotations { get; set; }
    public Dictionary<string, long> AnnotationsByState { get; set; } = [];
    public Dictionary<string, long> ExportedByState { get; } = [];
    public Dictionary<string, long> LeftOutByState { get; set; } = [];
    public List<string> Notes { get; } = [];
    /// <summary>Exported images nobody approved (an export of every image), and their names (the first 10,000).</summary>
    public int Unreviewed { get; set; }
    public List<string> UnreviewedFiles { get; } = [];
    /// <summary>Images the filters chose that were left out: nobody approved them and they have nothing to export.</summary>
    public int LeftOutEmptyUnreviewed { get; set; }
    /// <summary>The project's labels as exported: ids in the formats and attribute definitions (COCO carries each
    /// object's values; YOLO has no place for them).</summary>
    public List<ManifestLabel> Labels { get; set; } = [];

    public void Exported(Annotation a)
    {
        Annotations++;
        string state = Common.ApiEnum.Name(a.State);
        ExportedByState[state] = ExportedByState.GetValueOrDefault(state) + 1;
    }
}

public sealed record ManifestLabel(string Name, int CocoId, int YoloClass, IReadOnlyList<LabelAttribute> Attributes);

/// <summary>The choices an export was made with, as the API names them.</summary>
public sealed record ExportFilter(string Scope, IReadOnlyList<string> States, IReadOnlyList<string>? ImageStatuses, int? ImageIds, bool IncludeImages, bool IncludeScores, double ValFraction, int Seed, SliceExport? Slice = null);

/// <summary>
/// The project as an exporter sees it: labels with their export ids, and images (with their annotations) read
/// page by page in a stable order, so a pass over 10k images never holds more than one page in memory and two
/// passes see the same ids, names and splits.
/// </summary>
public sealed class ExportContext(VisionLabelDb db, IBlobStore blobs, Project project, IReadOnlyList<ExportLabel> labels, ExportOptions options, Common.ImageIntakeOptions intake)
{
    private const int PageSize = 500;
    /// <summary>Most file names the manifest lists (the count is always whole).</summary>
    private const int MaxListed = 10_000;
    private readonly HashSet<Guid> _unreviewed = [];

    public Project Project => project;
    public IReadOnlyList<ExportLabel> Labels => labels;
    public IReadOnlyDictionary<Guid, ExportLabel> LabelsById { get; } = labels.ToDictionary(l => l.Id);
    public bool IncludeScores => options.IncludeScores;
    public bool IncludeImages => options.IncludeImages;
    public SliceExport? Slicing => options.Slicing;
    public IBlobStore Blobs => blobs;
    public Common.ImageIntakeOptions Intake => intake;
    public ExportSummary Summary { get; } = new() { Labels = [.. labels.Select(l => new ManifestLabel(l.Name, l.CocoId, l.ClassIndex, l.Attributes))] };

    /// <summary>The images the export's filters select, before the rule on empty images.</summary>
    public IQueryable<Image> CandidateImages()
    {
        var query = db.Images.AsNoTracking().Where(i => i.ProjectId == project.Id && i.ArchivedAt == null); // archived: out of the dataset
        if (options.Scope == ExportScope.GroundTruth) query = query.Where(i => db.GroundTruth.Any(g => g.ImageId == i.Id));
        else if (options.ImageStatuses is { Count: > 0 } statuses) query = query.Where(i => statuses.Contains(i.Status));
        else if (options.Scope == ExportScope.Approved) query = query.Where(i => i.Status == ImageStatus.Approved);
        if (options.ImageIds is { Count: > 0 } ids) query = query.Where(i => ids.Contains(i.Id));
        return query;
    }

    /// <summary>
    /// The images the export holds: the candidates, less those no reviewer approved that have nothing to export. A training
    /// set reads an image without labels as background (nothing there), so only a reviewer's approval may say so.
    /// </summary>
    public IQueryable<Image> SelectedImages()
    {
        var states = options.States;
        if (options.Scope == ExportScope.GroundTruth) return CandidateImages(); // the truth says what is there, nothing included
        // Approved by a reviewer (reviewedBy set): one approved at submit outside the review sample was seen by nobody.
        return CandidateImages().Where(i => (i.Status == ImageStatus.Approved && i.ReviewedBy != null) || db.Annotations.Any(a => a.ImageId == i.Id && states.Contains(a.State)));
    }

    public async IAsyncEnumerable<ExportImage> ImagesAsync(bool withAnnotations, [EnumeratorCancellation] CancellationToken ct)
    {
        var query = SelectedImages();
        long nextCocoId = (await query.MaxAsync(i => i.ExternalId, ct) ?? 0) + 1;
        var usedNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var states = options.States;
        for (int skip = 0; ; skip += PageSize)
        {
            var page = await query.OrderBy(i => i.Id).Skip(skip).Take(PageSize).ToListAsync(ct);
            if (page.Count == 0) yield break;
            ILookup<Guid, Annotation>? annotations = null;
            if (withAnnotations)
            {
                var pageIds = page.Select(i => i.Id).ToList();
                annotations = options.Scope == ExportScope.GroundTruth ? (await TruthAsync(pageIds, ct)).ToLookup(a => a.ImageId) : (await db.Annotations.AsNoTracking()
                    .Where(a => pageIds.Contains(a.ImageId) && states.Contains(a.State))
                    .OrderBy(a => a.Id).ToListAsync(ct)).ToLookup(a => a.ImageId);
            }
            foreach (var image in page)
            {
                if (withAnnotations && options.Scope != ExportScope.GroundTruth && image.Status != ImageStatus.Approved && _unreviewed.Add(image.Id) && Summary.UnreviewedFiles.Count < MaxListed)
                    Summary.UnreviewedFiles.Add(image.FileName);
                if (withAnnotations) Summary.Unreviewed = _unreviewed.Count;
                string split = ExportSplit.Of(image.Id, options.ValFraction, options.Seed);
                yield return new ExportImage(image, image.ExternalId ?? nextCocoId++, UniqueName(image.FileName, usedNames), split,
                    annotations is null ? [] : annotations[image.Id].ToList());
            }
        }
    }

    /// <summary>Ground truth as the exporters read annotations: accepted, a crowd region marked iscrowd.</summary>
    private async Task<List<Annotation>> TruthAsync(List<Guid> imageIds, CancellationToken ct) =>
        (await db.GroundTruth.AsNoTracking().Where(g => imageIds.Contains(g.ImageId)).OrderBy(g => g.Id).ToListAsync(ct)).Select(g => new Annotation
        {
            Id = g.Id, ImageId = g.ImageId, LabelId = g.LabelId, Kind = g.Kind, Geometry = g.Geometry, State = AnnotationState.Accepted,
            Source = AnnotationSourceType.Human, Attributes = g.Crowd ? "{\"iscrowd\":1}" : "{}", CreatedBy = g.CreatedBy, UpdatedBy = g.CreatedBy,
        }).ToList();

    /// <summary>Copies each image file into the zip under folder(image)/FileName, when the export includes images.</summary>
    public async Task WriteImagesAsync(ZipArchive zip, Func<ExportImage, string> folder, CancellationToken ct)
    {
        await foreach (var image in ImagesAsync(withAnnotations: false, ct))
        {
            Summary.Images++;
            if (!options.IncludeImages) continue;
            // Stored (not deflated): JPEG/PNG/WebP do not compress further, and this keeps the export I/O-bound.
            await using var source = await blobs.OpenReadAsync(image.Image.BlobKey, ct);
            if (source is null) { Summary.Notes.Add($"{image.FileName}: the stored file is missing; exported without it"); continue; }
            var entry = zip.CreateEntry($"{folder(image)}/{image.FileName}", CompressionLevel.NoCompression);
            await using var target = await entry.OpenAsync(ct);
            await source.CopyToAsync(target, ct);
        }
    }

    private static string UniqueName(string fileName, HashSet<string> used)
    {
        string name = Path.GetFileName(fileName);
        if (used.Add(name)) return name;
        string stem = Path.GetFileNameWithoutExtension(name), ext = Path.GetExtension(name);
        for (int n = 2; ; n++)
            if (used.Add($"{stem}_{n}{ext}")) return $"{stem}_{n}{ext}";
    }

    internal static readonly JsonSerializerOptions ManifestJson = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public static async Task WriteSummaryAsync(ZipArchive zip, ExportSummary summary, CancellationToken ct)
    {
        var entry = zip.CreateEntry("visionlabel-export.json", CompressionLevel.Fastest);
        await using var stream = await entry.OpenAsync(ct);
        await JsonSerializer.SerializeAsync(stream, summary, ManifestJson, ct);
    }
}

/// <summary>Which images an export holds: approved ones (the default: what review let through), all of them, or — on
/// request, reviewers and owners only — the images with ground truth, with their ground truth instead of their
/// annotations (docs/quality.md). On the wire: "approved", "all", "ground-truth".</summary>
public enum ExportScope { Approved, All, GroundTruth }

public sealed class ExportOptions
{
    /// <summary>Approved images only (default), or every image: then images nobody approved are listed in the manifest,
    /// and one of them with nothing to export is left out (never written as an empty background).</summary>
    public ExportScope Scope { get; set; } = ExportScope.Approved;
    /// <summary>Annotation states to include. Default: accepted only, the reviewed ground truth, as a training set wants
    /// it; model proposals nobody has reviewed are left out unless asked for (and the summary says how many).</summary>
    public List<AnnotationState> States { get; set; } = [AnnotationState.Accepted];
    public List<ImageStatus>? ImageStatuses { get; set; }
    public List<Guid>? ImageIds { get; set; }
    public bool IncludeImages { get; set; } = true;
    public bool IncludeScores { get; set; }
    /// <summary>YOLO: the share of images put in the val split (0: all in train).</summary>
    public double ValFraction { get; set; }
    public int Seed { get; set; }
    /// <summary>YOLO only: cut images larger than the slice into overlapping slices with their labels (null: whole images).</summary>
    public SliceExport? Slicing { get; set; }
}

/// <summary>What exporters read from an annotation besides its geometry.</summary>
public static class ExportGeometry
{
    public static bool IsCrowd(Annotation a) =>
        a.Attributes.Contains("iscrowd") && JsonDocument.Parse(a.Attributes).RootElement.TryGetProperty("iscrowd", out var c) &&
        (c.ValueKind == JsonValueKind.True || (c.ValueKind == JsonValueKind.Number && c.GetDouble() != 0));
}
