namespace VisionLabel.Inference;

/// <summary>Shared by every adapter: model-input boxes back to the original image (each adapter decodes its own output layout).</summary>
public static class OutputDecoder
{
    /// <summary>Input-pixel box to original-image pixels: remove the padding, undo the scale, clip to the image.</summary>
    public static BoxF ToOriginal(BoxF box, LetterboxGeometry g)
    {
        float s = (float)g.Scale;
        float x1 = Math.Clamp((box.X - g.PadLeft) / s, 0, g.SourceWidth), y1 = Math.Clamp((box.Y - g.PadTop) / s, 0, g.SourceHeight);
        float x2 = Math.Clamp((box.Right - g.PadLeft) / s, 0, g.SourceWidth), y2 = Math.Clamp((box.Bottom - g.PadTop) / s, 0, g.SourceHeight);
        return new BoxF(x1, y1, x2 - x1, y2 - y1);
    }
}
