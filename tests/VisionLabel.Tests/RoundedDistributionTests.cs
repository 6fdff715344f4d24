using VisionLabel.Server.Health;

namespace VisionLabel.Tests;

/// <summary>Dataset health's box outliers score against counted distributions (docs/analytics.md): the median and MAD of
/// the values rounded to 0.001, worked by hand here.</summary>
[Trait("Tier", Tiers.Unit)]
public class RoundedDistributionTests
{
    private static RoundedDistribution Of(params double[] values)
    {
        var d = new RoundedDistribution();
        foreach (var v in values) d.Add(v);
        return d;
    }

    [Fact]
    public void An_odd_count_scores_against_the_middle_value_and_the_median_deviation()
    {
        // 1, 2, 3, 4, 100: median 3; deviations 2, 1, 0, 1, 97 → sorted 0, 1, 1, 2, 97: MAD 1.
        var z = Of(1, 2, 3, 4, 100).Scorer();
        Assert.Equal(0.6745 * 97, z(100)!.Value, 9);
        Assert.Equal(0.6745 * -2, z(1)!.Value, 9);
        Assert.Equal(0, z(3)!.Value, 9);
    }

    [Fact]
    public void An_even_count_takes_the_mean_of_the_two_middle_values_and_values_are_rounded_first()
    {
        // 1.0004 → 1.000 and 3.9996 → 4.000: 1, 2, 3, 4 → median 2.5; deviations 1.5, 0.5, 0.5, 1.5: MAD 1.
        var z = Of(1.0004, 2, 3, 3.9996).Scorer();
        Assert.Equal(0.6745 * 1.5, z(4)!.Value, 9);
        Assert.Equal(0.6745 * 1.5, z(4.0003)!.Value, 9); // rounded before it is scored
        Assert.Equal(0.6745 * -0.5, z(2)!.Value, 9);
    }

    [Fact]
    public void Repeated_values_count_as_often_as_they_occur()
    {
        // 5 ×3, 6, 9: median 5; deviations 0, 0, 0, 1, 4 → MAD 0: undefined, so nothing is an outlier.
        Assert.Null(Of(5, 5, 5, 6, 9).Scorer()(9));
        // 5 ×2, 6 ×2, 9: median 6; deviations 1, 1, 0, 0, 3 → MAD 1.
        Assert.Equal(0.6745 * 3, Of(5, 5, 6, 6, 9).Scorer()(9)!.Value, 9);
        // Fewer than three values: undefined.
        Assert.Null(Of(1, 50).Scorer()(50));
    }
}
