namespace VisionLabel.Inference;

public static class Nms
{
    public readonly record struct Candidate(int Anchor, int ClassId, float Score, BoxF Box);

    /// <summary>
    /// Class-aware greedy NMS: highest score first; a box is dropped when it overlaps a kept box of the same
    /// class by more than <paramref name="iou"/>. Ties in score keep anchor order (stable), like the reference.
    /// </summary>
    public static List<Candidate> Run(List<Candidate> candidates, float iou, int maxDetections)
    {
        candidates.Sort((a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Anchor.CompareTo(b.Anchor));
        var kept = new List<Candidate>();
        foreach (var c in candidates)
        {
            bool suppressed = false;
            foreach (var k in kept)
            {
                if (k.ClassId == c.ClassId && BoxF.IoU(k.Box, c.Box) > iou) { suppressed = true; break; }
            }
            if (suppressed) continue;
            kept.Add(c);
            if (kept.Count == maxDetections) break;
        }
        return kept;
    }
}
