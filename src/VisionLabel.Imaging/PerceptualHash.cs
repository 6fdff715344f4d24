namespace VisionLabel.Imaging;

/// <summary>
/// A 64-bit perceptual hash (the DCT "pHash"): the image in grey, averaged down to 32×32, its 2-D DCT-II, the 8×8
/// lowest frequencies; a bit is set where a coefficient is above the median of the 63 AC ones. Resizing, re-encoding,
/// brightness and small crops move few bits; different photos differ in about half. Distance = the bits that differ.
/// </summary>
public static class PerceptualHash
{
    private const int N = 32;
    private static readonly double[,] Cos = MakeCos();

    public static ulong Of(RgbImage image)
    {
        var grey = Shrink(image);
        // The DCT's low 8×8 corner: rows first (only the 8 lowest u are needed), then columns.
        var rows = new double[N, 8];
        for (int y = 0; y < N; y++)
            for (int u = 0; u < 8; u++)
            {
                double s = 0;
                for (int x = 0; x < N; x++) s += grey[y * N + x] * Cos[u, x];
                rows[y, u] = s;
            }
        var dct = new double[64];
        for (int v = 0; v < 8; v++)
            for (int u = 0; u < 8; u++)
            {
                double s = 0;
                for (int y = 0; y < N; y++) s += rows[y, u] * Cos[v, y];
                dct[v * 8 + u] = s;
            }
        var ac = dct.Skip(1).Order().ToArray();
        double median = (ac[30] + ac[31]) / 2; // 63 values: the 32nd, averaged with its neighbour for stability on ties
        ulong hash = 0;
        for (int i = 1; i < 64; i++) if (dct[i] > median) hash |= 1UL << i;
        return hash;
    }

    public static int Distance(ulong a, ulong b) => System.Numerics.BitOperations.PopCount(a ^ b);

    /// <summary>Grey (Rec. 601 luma) averaged over a 32×32 grid of equal areas of the image.</summary>
    private static double[] Shrink(RgbImage image)
    {
        var sum = new double[N * N];
        var count = new int[N * N];
        var p = image.Pixels;
        for (int y = 0; y < image.Height; y++)
        {
            int gy = (int)((long)y * N / image.Height);
            for (int x = 0; x < image.Width; x++)
            {
                int gx = (int)((long)x * N / image.Width);
                int o = (y * image.Width + x) * 3;
                sum[gy * N + gx] += 0.299 * p[o] + 0.587 * p[o + 1] + 0.114 * p[o + 2];
                count[gy * N + gx]++;
            }
        }
        for (int i = 0; i < sum.Length; i++) sum[i] = count[i] == 0 ? 0 : sum[i] / count[i];
        return sum;
    }

    private static double[,] MakeCos()
    {
        var c = new double[8, N];
        for (int u = 0; u < 8; u++)
            for (int x = 0; x < N; x++) c[u, x] = Math.Cos((2 * x + 1) * u * Math.PI / (2 * N));
        return c;
    }
}
