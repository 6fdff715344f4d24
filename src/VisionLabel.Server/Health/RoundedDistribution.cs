namespace VisionLabel.Server.Health;

/// <summary>
/// A distribution kept as counts of values rounded to <see cref="Step"/>: the median and MAD of the rounded values,
/// exactly, in memory bounded by the spread of the values rather than their number (log sizes of a million boxes take
/// a few thousand counts). Dataset health scores box outliers with it so its memory stays flat as a project grows.
/// </summary>
public sealed class RoundedDistribution
{
    public const double Step = 0.001;
    private readonly Dictionary<long, long> _counts = [];

    public long Count { get; private set; }

    public static long Round(double x) => (long)Math.Round(x / Step, MidpointRounding.AwayFromZero);

    public void Add(double x)
    {
        long k = Round(x);
        _counts[k] = _counts.GetValueOrDefault(k) + 1;
        Count++;
    }

    /// <summary>The modified z-score 0.6745·(x − median)/MAD of x rounded, against the rounded values (docs/analytics.md),
    /// or null when it is not defined (fewer than 3 values, or a MAD of 0): as Analytics.Outliers.Scorer, counted.</summary>
    public Func<double, double?> Scorer()
    {
        if (Count < 3) return _ => null;
        // In steps, so every median is a whole or half step and exact in a double.
        var sorted = _counts.OrderBy(c => c.Key).Select(c => ((double)c.Key, c.Value)).ToList();
        double median = Median(sorted, Count);
        var deviations = sorted.GroupBy(c => Math.Abs(c.Item1 - median)).Select(g => (g.Key, g.Sum(c => c.Value))).OrderBy(d => d.Key).ToList();
        double mad = Median(deviations, Count);
        return mad == 0 ? _ => null : x => 0.6745 * (Round(x) - median) / mad;
    }

    /// <summary>The median of n values given as (value, count) in ascending order: the mean of the two middle ones when n is even.</summary>
    private static double Median(IReadOnlyList<(double Value, long Count)> sorted, long n)
    {
        long low = (n - 1) / 2, high = n / 2, seen = 0;
        double? a = null;
        foreach (var (value, count) in sorted)
        {
            if (a is null && low < seen + count) a = value;
            if (high < seen + count) return (a!.Value + value) / 2;
            seen += count;
        }
        throw new InvalidOperationException("The counts add up to less than n.");
    }
}
