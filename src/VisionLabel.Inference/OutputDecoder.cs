using System.Numerics;

namespace VisionLabel.Inference;

/// <summary>Turns one image's raw model output into candidate boxes in model-input pixels (before NMS).</summary>
public static class OutputDecoder
{
    /// <summary>
    /// Ultralytics [4+nc(+nm), N], channel-major: rows 0..3 cx, cy, w, h; then class scores (already
    /// sigmoid). Best class per anchor, kept when its score is above the threshold.
    /// </summary>
    public static List<Nms.Candidate> Ultralytics(ReadOnlySpan<float> output, int anchors, int classes, float confidence)
    {
        var candidates = new List<Nms.Candidate>();
        // The best class per anchor, scanning class rows (contiguous memory) a block of anchors at a time so the
        // block's bests stay in L1, with SIMD compares: this scan reads every score (80 × 8400 for a 640 input) and
        // was the largest managed cost of a pre-labeling job. Ties keep the lower class, as a scalar scan would.
        const int Block = 1024;
        Span<float> best = stackalloc float[Block];
        Span<int> bestClass = stackalloc int[Block];
        int width = Vector<float>.Count;
        for (int start = 0; start < anchors; start += Block)
        {
            int n = Math.Min(Block, anchors - start);
            output.Slice(4 * anchors + start, n).CopyTo(best);
            bestClass[..n].Clear();
            for (int c = 1; c < classes; c++)
            {
                var row = output.Slice((4 + c) * anchors + start, n);
                var cls = new Vector<int>(c);
                int i = 0;
                for (; i <= n - width; i += width)
                {
                    var score = new Vector<float>(row[i..]);
                    var top = new Vector<float>(best[i..]);
                    var greater = Vector.GreaterThan(score, top);
                    if (greater == Vector<int>.Zero) continue; // the common case: most scores are near zero
                    Vector.ConditionalSelect(greater, score, top).CopyTo(best[i..]);
                    Vector.ConditionalSelect(greater, cls, new Vector<int>(bestClass[i..])).CopyTo(bestClass[i..]);
                }
                for (; i < n; i++)
                    if (row[i] > best[i]) { best[i] = row[i]; bestClass[i] = c; }
            }
            for (int j = 0; j < n; j++)
            {
                if (!(best[j] > confidence)) continue;
                int a = start + j;
                float cx = output[a], cy = output[anchors + a], w = output[2 * anchors + a], h = output[3 * anchors + a];
                candidates.Add(new Nms.Candidate(a, bestClass[j], best[j], new BoxF(cx - w / 2, cy - h / 2, w, h)));
            }
        }
        return candidates;
    }

    /// <summary>
    /// YOLOX raw grid [N, 5+nc]: (px, py, pw, ph, objectness, class scores) per anchor, anchors ordered by
    /// stride 8, 16, 32 then row-major. Centre = (p + grid) * stride, size = exp(p) * stride, score = obj * class.
    /// </summary>
    public static List<Nms.Candidate> Yolox(ReadOnlySpan<float> output, int inputWidth, int inputHeight, int classes, float confidence)
    {
        var candidates = new List<Nms.Candidate>();
        int stride5 = 5 + classes, anchor = 0;
        foreach (int stride in (ReadOnlySpan<int>)[8, 16, 32])
        {
            int gw = inputWidth / stride, gh = inputHeight / stride;
            for (int gy = 0; gy < gh; gy++)
            for (int gx = 0; gx < gw; gx++, anchor++)
            {
                var row = output.Slice(anchor * stride5, stride5);
                int bestClass = 0;
                float bestScore = row[5];
                for (int c = 1; c < classes; c++) if (row[5 + c] > bestScore) { bestScore = row[5 + c]; bestClass = c; }
                float score = row[4] * bestScore;
                if (!(score >= confidence)) continue;
                float cx = (row[0] + gx) * stride, cy = (row[1] + gy) * stride;
                float w = MathF.Exp(row[2]) * stride, h = MathF.Exp(row[3]) * stride;
                candidates.Add(new Nms.Candidate(anchor, bestClass, score, new BoxF(cx - w / 2, cy - h / 2, w, h)));
            }
        }
        return candidates;
    }

    /// <summary>Input-pixel box to original-image pixels: remove the padding, undo the scale, clip to the image.</summary>
    public static BoxF ToOriginal(BoxF box, LetterboxGeometry g)
    {
        float s = (float)g.Scale;
        float x1 = Math.Clamp((box.X - g.PadLeft) / s, 0, g.SourceWidth), y1 = Math.Clamp((box.Y - g.PadTop) / s, 0, g.SourceHeight);
        float x2 = Math.Clamp((box.Right - g.PadLeft) / s, 0, g.SourceWidth), y2 = Math.Clamp((box.Bottom - g.PadTop) / s, 0, g.SourceHeight);
        return new BoxF(x1, y1, x2 - x1, y2 - y1);
    }
}
