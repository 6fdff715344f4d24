namespace VisionLabel.Imaging;

/// <summary>
/// All pairs of perceptual hashes within a Hamming distance, without comparing every pair: split the 64 bits into
/// d + 1 blocks; two hashes at most d bits apart agree exactly on at least one block (pigeonhole), so only hashes that
/// share a block's value are compared. Each pair is reported once (a, b in input order), with its distance.
/// </summary>
public static class NearDuplicates
{
    public static List<(int A, int B, int Distance)> Find(IReadOnlyList<ulong> hashes, int maxDistance)
    {
        if (maxDistance is < 0 or > 63) throw new ArgumentOutOfRangeException(nameof(maxDistance));
        int blocks = maxDistance + 1;
        var found = new HashSet<(int, int)>();
        var pairs = new List<(int, int, int)>();
        for (int b = 0; b < blocks; b++)
        {
            int start = b * 64 / blocks, end = (b + 1) * 64 / blocks;
            ulong mask = (end - start == 64 ? ulong.MaxValue : ((1UL << (end - start)) - 1)) << start;
            var buckets = new Dictionary<ulong, List<int>>();
            for (int i = 0; i < hashes.Count; i++)
            {
                ulong key = hashes[i] & mask;
                if (!buckets.TryGetValue(key, out var list)) buckets[key] = list = [];
                list.Add(i);
            }
            foreach (var list in buckets.Values)
                for (int x = 0; x < list.Count; x++)
                    for (int y = x + 1; y < list.Count; y++)
                    {
                        int d = PerceptualHash.Distance(hashes[list[x]], hashes[list[y]]);
                        if (d <= maxDistance && found.Add((list[x], list[y]))) pairs.Add((list[x], list[y], d));
                    }
        }
        pairs.Sort();
        return pairs;
    }
}
