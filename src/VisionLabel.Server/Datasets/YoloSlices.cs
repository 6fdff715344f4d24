using System.IO.Compression;
using System.Text;
using VisionLabel.Imaging;
using VisionLabel.Inference.Tiling;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.ModelLoop;

namespace VisionLabel.Server.Datasets;

/// <summary>A YOLO export cut into square slices (export option slice=SIZE, sliceOverlap=FRACTION).</summary>
public sealed record SliceExport(int Size, double Overlap)
{
    public const int MinSize = 64, MaxSize = 4096;
    public const double MaxOverlap = 0.5;
}

/// <summary>
/// YOLO slices: what ML engineers train on when images are far larger than the model's input (aerial, pathology).
/// Each image larger than the slice is cut on the same grid tiled pre-labeling uses (overlapping squares, the last
/// one flush with the edge); each slice with an object becomes images/{split}/{stem}_{x}_{y}.jpg with its label file.
/// Objects are clipped to the slice (boxes by their overlap, polygons and mask outlines by Sutherland–Hodgman) and kept
/// when at least <see cref="MinVisible"/> of the object — or of the slice, for an object larger than it — shows.
/// A slice keeps its source image's split, so no photo's pixels are in both train and val. Slices without an object are
/// left out (counted in the manifest): a slice of an unreviewed image is not known to be background.
/// </summary>
public static class YoloSlices
{
    /// <summary>SAHI's default min_area_ratio: a sliver of an object teaches a detector nothing it can find.</summary>
    public const double MinVisible = 0.1;

    /// <summary>The label line of one object in a slice (its geometry already in slice pixels), or null to leave it out.</summary>
    public delegate string? LineWriter(ExportLabel label, Annotation annotation, Geometry geometry, int width, int height);

    /// <returns>Whether any slice went to the val split (data.yaml says so).</returns>
    public static async Task<bool> WriteAsync(ExportContext export, ZipArchive zip, SliceExport slicing, LineWriter line, CancellationToken ct)
    {
        bool hasVal = false;
        long backgrounds = 0, crowd = 0;
        // Slice files are named by stem (every slice is a .jpg): a.jpg and a.png, or a large a.jpg's a_0_0 and an image
        // named a_0_0.png, would share a name; a clash gets a numeric suffix, as whole images' names do.
        var used = new Dictionary<string, HashSet<string>>();
        await foreach (var image in export.ImagesAsync(withAnnotations: true, ct))
        {
            int width = image.Image.Width, height = image.Image.Height;
            var objects = new List<(ExportLabel Label, Annotation A, List<double[]> Rings, double Area, bool IsBox)>();
            foreach (var a in image.Annotations)
            {
                if (!export.LabelsById.TryGetValue(a.LabelId, out var label)) continue;
                if (ExportGeometry.IsCrowd(a)) { export.Summary.SkippedAnnotations++; crowd++; continue; }
                var g = Geometry.Read(a.Kind, a.Geometry);
                // Rings of three points or more only: a degenerate ring has no area to clip.
                var rings = YoloSegmentExporter.Rings(g).Where(r => r.Length >= 6).ToList();
                if (rings.Count == 0) { export.Summary.SkippedAnnotations++; continue; }
                objects.Add((label, a, rings, rings.Sum(PolygonGeometry.ShoelaceArea), g is BoxGeometry));
            }
            var plan = SliceGrid.Plan(width, height, slicing.Size, slicing.Size, slicing.Overlap);
            var written = new List<(SliceRect Slice, string Name)>();
            var exported = new HashSet<Guid>();
            string stem = Path.GetFileNameWithoutExtension(image.FileName);
            foreach (var slice in plan)
            {
                var text = new StringBuilder();
                double sliceArea = (double)slice.Width * slice.Height;
                foreach (var o in objects)
                {
                    var clipped = o.Rings.Select(r => ClipRing(r, slice)).Where(r => r.Length >= 6).ToList();
                    double visible = clipped.Sum(PolygonGeometry.ShoelaceArea);
                    if (visible <= 0 || visible < MinVisible * Math.Min(o.Area, sliceArea)) continue;
                    Geometry local = o.IsBox ? BoxOf(clipped[0]) : new PolygonGeometry(clipped);
                    if (line(o.Label, o.A, local, slice.Width, slice.Height) is not { } l) continue;
                    text.Append(l);
                    if (exported.Add(o.A.Id)) export.Summary.Exported(o.A);
                }
                if (text.Length == 0) { backgrounds++; continue; }
                string name = Unique(plan.Count == 1 ? stem : $"{stem}_{slice.X}_{slice.Y}", image.Split, used);
                var entry = zip.CreateEntry($"labels/{image.Split}/{name}.txt", CompressionLevel.Fastest);
                await using (var stream = await entry.OpenAsync(ct)) await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), ct);
                written.Add((slice, name));
            }
            export.Summary.SkippedAnnotations += objects.Count(o => !exported.Contains(o.A.Id));
            export.Summary.Images++;
            export.Summary.Slices += written.Count;
            hasVal |= image.Split == "val";
            if (!export.IncludeImages || written.Count == 0) continue;
            var (source, refusal) = await UprightImage.LoadAsync(export.Blobs, image.Image, export.Intake, ct);
            if (source is null) { export.Summary.Notes.Add($"{image.FileName}: {refusal!.Detail} Its slices' labels are in the export without their images."); continue; }
            foreach (var (slice, name) in written)
            {
                var pixels = await source.RegionAsync(slice.X, slice.Y, slice.Width, slice.Height, ct);
                var entry = zip.CreateEntry($"images/{image.Split}/{name}.jpg", CompressionLevel.NoCompression);
                await using var stream = await entry.OpenAsync(ct);
                await stream.WriteAsync(ImageCodec.EncodeJpeg(pixels, 95), ct);
            }
        }
        if (crowd > 0) export.Summary.Notes.Add($"{crowd} crowd (iscrowd) annotation(s) left out, as Ultralytics does");
        if (backgrounds > 0)
            export.Summary.Notes.Add($"{backgrounds} slice(s) without an object were left out (a slice of an image nobody approved is not known to be background)");
        return hasVal;
    }

    private static string Unique(string name, string split, Dictionary<string, HashSet<string>> used)
    {
        if (!used.TryGetValue(split, out var names)) used[split] = names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (names.Add(name)) return name;
        for (int n = 2; ; n++)
            if (names.Add($"{name}_{n}")) return $"{name}_{n}";
    }

    private static BoxGeometry BoxOf(double[] ring)
    {
        var b = PolygonGeometry.PointBounds([ring]);
        return new BoxGeometry(b[0], b[1], b[2], b[3]);
    }

    /// <summary>
    /// A ring clipped to the slice (Sutherland–Hodgman against its four edges) and moved into its pixels; empty when
    /// nothing of it is inside. Exact for convex clip windows such as a rectangle, whatever the ring's shape.
    /// </summary>
    public static double[] ClipRing(double[] ring, SliceRect slice)
    {
        var points = new List<(double X, double Y)>(ring.Length / 2);
        for (int i = 0; i + 1 < ring.Length; i += 2) points.Add((ring[i], ring[i + 1]));
        points = Clip(points, p => p.X >= slice.X, (a, b) => AtX(a, b, slice.X));
        points = Clip(points, p => p.X <= slice.Right, (a, b) => AtX(a, b, slice.Right));
        points = Clip(points, p => p.Y >= slice.Y, (a, b) => AtY(a, b, slice.Y));
        points = Clip(points, p => p.Y <= slice.Bottom, (a, b) => AtY(a, b, slice.Bottom));
        var result = new double[points.Count * 2];
        for (int i = 0; i < points.Count; i++) { result[2 * i] = points[i].X - slice.X; result[2 * i + 1] = points[i].Y - slice.Y; }
        return result;
    }

    private static List<(double X, double Y)> Clip(List<(double X, double Y)> input, Func<(double X, double Y), bool> inside,
        Func<(double X, double Y), (double X, double Y), (double X, double Y)> cross)
    {
        var output = new List<(double X, double Y)>(input.Count + 4);
        for (int i = 0; i < input.Count; i++)
        {
            var current = input[i];
            var previous = input[(i + input.Count - 1) % input.Count];
            bool inCurrent = inside(current), inPrevious = inside(previous);
            if (inCurrent)
            {
                if (!inPrevious) output.Add(cross(previous, current));
                output.Add(current);
            }
            else if (inPrevious) output.Add(cross(previous, current));
        }
        return output;
    }

    private static (double X, double Y) AtX((double X, double Y) a, (double X, double Y) b, double x) => (x, a.Y + (b.Y - a.Y) * (x - a.X) / (b.X - a.X));

    private static (double X, double Y) AtY((double X, double Y) a, (double X, double Y) b, double y) => (a.X + (b.X - a.X) * (y - a.Y) / (b.Y - a.Y), y);
}
