namespace VisionLabel.Server.Datasets;

/// <summary>
/// Which split an export puts an image in: "val" when its bucket — a uniform number in [0, 1) from SplitMix64 of its id
/// and the seed — is below the val share, else "train". Per image, so adding images never moves the others, and dataset
/// health (leaks) sees the same splits as the export with the same val and seed.
/// </summary>
public static class ExportSplit
{
    public static string Of(Guid imageId, double valFraction, int seed) =>
        valFraction > 0 && Bucket(imageId, seed) < valFraction ? "val" : "train";

    public static double Bucket(Guid imageId, int seed) => (ulong)Common.StableHash.Of(seed, imageId) / (double)(1UL << 63);
}
