using VisionLabel.Imaging;
using VisionLabel.Inference;

namespace VisionLabel.Tests.Support;

/// <summary>
/// A large test image made of real photos: coco128 photos pasted at known offsets on a mid-grey canvas (114, the
/// letterbox pad, so a photo's surroundings look like what it is padded with alone), with gaps between them.
/// </summary>
public sealed record Mosaic(RgbImage Canvas, IReadOnlyList<(string File, int X, int Y, int Width, int Height)> Photos)
{
    /// <summary>Nine photos on a 4000 × 3000 canvas, one in each cell of a 3 × 3 grid at offsets that put every
    /// photo across slice edges (slices start every 512 px at overlap 0.2 for a 640 model).</summary>
    public static Mosaic Build(int width = 4000, int height = 3000, int count = 9)
    {
        var files = Directory.GetFiles(SharedData.Coco128Images, "*.jpg").Order().Take(count).ToList();
        var canvas = new RgbImage(width, height);
        Array.Fill(canvas.Pixels, (byte)114);
        var placed = new List<(string, int, int, int, int)>();
        int cellW = width / 3, cellH = height / 3;
        for (int i = 0; i < files.Count; i++)
        {
            var photo = ImageTransforms.DecodeUpright(File.ReadAllBytes(files[i]));
            // Inside its cell with room to spare, shifted by a different amount each time so photos meet slice edges differently.
            int x = (i % 3) * cellW + 60 + (i * 97) % Math.Max(1, cellW - photo.Width - 120);
            int y = (i / 3) * cellH + 40 + (i * 61) % Math.Max(1, cellH - photo.Height - 80);
            for (int row = 0; row < photo.Height; row++)
                photo.Pixels.AsSpan(row * photo.Width * 3, photo.Width * 3).CopyTo(canvas.Pixels.AsSpan(((y + row) * width + x) * 3));
            placed.Add((files[i], x, y, photo.Width, photo.Height));
        }
        return new Mosaic(canvas, placed);
    }

    /// <summary>F1 of <paramref name="found"/> against <paramref name="expected"/>: greedy one-to-one matching of same-class
    /// boxes by IoU (highest first), a match at IoU ≥ <paramref name="iou"/>.</summary>
    public static (double F1, int Matched, int Expected, int Found) Score(IReadOnlyList<Detection> expected, IReadOnlyList<Detection> found, float iou = 0.5f)
    {
        var pairs = new List<(float IoU, int E, int F)>();
        for (int e = 0; e < expected.Count; e++)
            for (int f = 0; f < found.Count; f++)
                if (expected[e].ClassId == found[f].ClassId && BoxF.IoU(expected[e].Box, found[f].Box) is var v && v >= iou) pairs.Add((v, e, f));
        var usedE = new HashSet<int>();
        var usedF = new HashSet<int>();
        foreach (var (_, e, f) in pairs.OrderByDescending(p => p.IoU))
            if (!usedE.Contains(e) && !usedF.Contains(f)) { usedE.Add(e); usedF.Add(f); }
        int matched = usedE.Count;
        double f1 = expected.Count + found.Count == 0 ? 1 : 2.0 * matched / (expected.Count + found.Count);
        return (f1, matched, expected.Count, found.Count);
    }
}
