using VisionLabel.Server.ModelLoop;

namespace VisionLabel.Tests;

/// <summary>The model leaderboard's ranking (docs/models-in-the-loop.md), worked by hand.</summary>
[Trait("Tier", Tiers.Unit)]
public class BradleyTerryTests
{
    [Fact]
    public void Two_models_split_by_their_wins_with_one_virtual_tie()
    {
        // a is preferred 3 times, b once; with the virtual tie a has 3.5 wins and b 1.5 of 5 games between them, so
        // p_a / p_b = 3.5 / 1.5 = 7/3 and the centred scores are ±ln(7/3)/2 = ±0.423649.
        var judged = new[] { new Judged("a", "b", Preference.A), new Judged("b", "a", Preference.B), new Judged("a", "b", Preference.A), new Judged("a", "b", Preference.B) };
        var ranking = BradleyTerry.Rank(["a", "b"], judged);
        Assert.Equal(["a", "b"], ranking.Select(s => s.Model));
        Assert.Equal(0.423649, ranking[0].Score, 6);
        Assert.Equal(-0.423649, ranking[1].Score, 6);
        Assert.Equal((4, 3.0, 0.75), (ranking[0].Games, ranking[0].Wins, ranking[0].WinRate!.Value));
        Assert.True(ranking[0].Low <= ranking[0].Score && ranking[0].Score <= ranking[0].High);
    }

    [Fact]
    public void Ties_and_both_bad_count_half_to_each_and_an_unjudged_model_sits_at_the_middle()
    {
        var judged = new[] { new Judged("a", "b", Preference.Tie), new Judged("a", "b", Preference.BothBad) };
        var ranking = BradleyTerry.Rank(["a", "b", "c"], judged);
        Assert.All(ranking, s => Assert.Equal(0, s.Score, 9));
        Assert.Equal((2, 1.0, 0.5), (ranking.Single(s => s.Model == "a").Games, ranking.Single(s => s.Model == "a").Wins, ranking.Single(s => s.Model == "a").WinRate!.Value));
        Assert.Null(ranking.Single(s => s.Model == "c").WinRate);
    }

    [Fact]
    public void A_transitive_order_is_recovered_with_intervals_that_separate_the_ends()
    {
        // a beats b 8 of 10, b beats c 8 of 10, a beats c 9 of 10.
        var judged = new List<Judged>();
        void Games(string x, string y, int xWins, int total)
        {
            for (int i = 0; i < total; i++) judged.Add(new Judged(x, y, i < xWins ? Preference.A : Preference.B));
        }
        Games("a", "b", 8, 10);
        Games("b", "c", 8, 10);
        Games("a", "c", 9, 10);
        var ranking = BradleyTerry.Rank(["c", "b", "a"], judged);
        Assert.Equal(["a", "b", "c"], ranking.Select(s => s.Model));
        Assert.True(ranking[0].Low > ranking[2].High, $"a [{ranking[0].Low}, {ranking[0].High}] against c [{ranking[2].Low}, {ranking[2].High}]");
        Assert.Equal(ranking, BradleyTerry.Rank(["c", "b", "a"], judged)); // the same judgements, the same intervals
    }
}
