using VisionLabel.Server.Analytics;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>The flags on people's figures (docs/analytics.md), on hand-worked numbers.</summary>
[Trait("Tier", Tiers.Unit)]
public class OutliersTests
{
    private static PersonKpis Person(string user, double? perImage = null, double? f1 = null, double? perHour = null, double? unchanged = null) =>
        new(user, 0, 0, 0, 0, perHour, perImage, 0, null, 0, new Dictionary<string, int>(), f1, null, 0, 0, null, null, null, unchanged is null ? 0 : 20, unchanged, [], []);

    [Fact]
    public void Accepting_proposals_unchanged_far_more_often_than_the_team_is_flagged()
    {
        // 0.2, 0.25, 0.3, 0.22, 0.95: median 0.25; |x − 0.25| = 0.05, 0, 0.05, 0.03, 0.7 → MAD 0.05; z(0.95) = 0.6745 × 0.7 / 0.05 = 9.443.
        var people = Outliers.Flag([Person("a", unchanged: 0.2), Person("b", unchanged: 0.25), Person("c", unchanged: 0.3), Person("d", unchanged: 0.22),
            Person("e", unchanged: 0.95)], 0.8);
        Assert.Equal("proposals accepted unchanged far above the team's (modified z 9.4): worth a look", Assert.Single(people.Single(p => p.User == "e").Flags));
        Assert.All(people.Where(p => p.User != "e"), p => Assert.Empty(p.Flags));
        // Fewer than 20 decided proposals: too few to compare, so the same share is not flagged.
        var few = people.Select(p => p with { ProposalsDecided = p.User == "e" ? 5 : 20, Flags = [] }).ToList();
        Assert.Empty(Outliers.Flag(few, 0.8).Single(p => p.User == "e").Flags);
    }

    [Fact]
    public void The_modified_z_score_uses_the_median_and_the_median_absolute_deviation()
    {
        // median 12; |x − 12| = 2, 1, 0, 1, 28 → MAD 1; z(40) = 0.6745 × 28 = 18.886; z(10) = −1.349.
        double[] values = [10, 11, 12, 13, 40];
        Assert.Equal(18.886, Outliers.Z(values, 40)!.Value, 3);
        Assert.Equal(-1.349, Outliers.Z(values, 10)!.Value, 3);
        Assert.Null(Outliers.Z([5, 5, 5, 9], 9)); // MAD 0: not defined
        Assert.Null(Outliers.Z([1, 2], 2)); // fewer than 3 people
    }

    [Fact]
    public void Fast_with_a_low_f1_and_far_from_the_team_are_flagged_and_the_rest_are_not()
    {
        var people = Outliers.Flag([
            Person("steady", perImage: 60, f1: 0.9, perHour: 100), Person("careful", perImage: 70, f1: 0.95, perHour: 110),
            Person("quick", perImage: 20, f1: 0.5, perHour: 105), Person("quick-but-right", perImage: 20, f1: 0.9, perHour: 95),
            Person("burst", perImage: 60, f1: 0.9, perHour: 1000)], bar: 0.8);
        // Median time per image of 60, 70, 20, 20, 60 is 60: half is 30; "quick" is under it with F1 0.5 < 0.8.
        Assert.Single(people.Single(p => p.User == "quick").Flags, f => f.StartsWith("fast with a low GT F1"));
        Assert.DoesNotContain(people.Single(p => p.User == "quick-but-right").Flags, f => f.StartsWith("fast"));
        // Per hour 100, 110, 105, 95, 1000: median 105, MAD 5; z(1000) = 0.6745 × 895 / 5 = 120.7.
        Assert.Contains(people.Single(p => p.User == "burst").Flags, f => f.StartsWith("objects per active hour far above"));
        Assert.Empty(people.Single(p => p.User == "steady").Flags);
        Assert.All(people.SelectMany(p => p.Flags), f => Assert.EndsWith("worth a look", f.Replace(" at their images", "")));
    }
}
