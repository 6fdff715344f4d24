using VisionLabel.Shapes.Matching;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>The consensus merge (docs/quality.md) on hand-worked cases: quorum sizes, empty annotations, groups, ties.</summary>
[Trait("Tier", Tiers.Unit)]
public class ConsensusMergeTests
{
    private static readonly Guid Car = Guid.Parse("00000000-0000-0000-0000-00000000000c");
    private static readonly Guid Truck = Guid.Parse("00000000-0000-0000-0000-00000000000d");
    private static int _next;

    private static MatchItem Box(Guid label, double x, double y, double w, double h) =>
        new(Guid.Parse($"00000000-0000-0000-0001-{Interlocked.Increment(ref _next):D12}"), label, new BoxShape(x, y, w, h));

    [Theory]
    [InlineData(3, 0.5, 2)]
    [InlineData(4, 0.5, 2)]
    [InlineData(3, 1.0, 3)]
    [InlineData(5, 0.6, 3)]
    [InlineData(2, 0.01, 1)]
    [InlineData(3, 0.6666666666666666, 2)] // ceil(2.0000000000000000) despite the float
    public void Quorum_is_the_ceiling_of_n_times_q(int n, double q, int votes) => Assert.Equal(votes, ConsensusMerge.Required(n, q));

    [Fact]
    public void Empty_annotations_agree_fully_and_merge_to_nothing()
    {
        var result = ConsensusMerge.Merge([[], [], []], 100, 100, 0.5, 0.5);
        Assert.Equal(1.0, result.Agreement);
        Assert.Empty(result.Merged);
        // One empty against one with a shape: F1 0 for that pair.
        var half = ConsensusMerge.Merge([[], [Box(Car, 0, 0, 10, 10)]], 100, 100, 0.5, 0.5);
        Assert.Equal(0.0, half.Agreement);
        Assert.Single(half.Merged); // quorum ceil(2·0.5) = 1: the single shape stands
    }

    [Fact]
    public void Groups_are_per_label_chains_and_count_each_annotator_once()
    {
        // Three annotators; a and b agree on a car, b and c on the same car drawn a little lower (a–c IoU below τ):
        // one group through b with 3 votes. The truck drawn by a only has 1 vote.
        var a = Box(Car, 0, 0, 20, 20);
        var b = Box(Car, 0, 5, 20, 20);
        var c = Box(Car, 0, 10, 20, 20);
        var t = Box(Truck, 50, 50, 10, 10);
        var result = ConsensusMerge.Merge([[a, t], [b], [c]], 100, 100, 0.5, 0.5);
        var merged = Assert.Single(result.Merged);
        Assert.Equal(3, merged.Votes);
        Assert.Equal(b.Id, merged.Kept.Id); // the medoid: matched to both others (IoU 0.6 each), a and c to one
        // Pairs: a–b TP1 FN1 (truck) → 2/3; a–c: IoU(a, c) = 200/600 < 0.5 → TP0 → 0; b–c TP1 → 1. Mean 5/9.
        Assert.Equal(5.0 / 9, result.Agreement, 12);
        Assert.Equal([2.0 / 3, 0, 1], result.PairF1);
    }

    [Fact]
    public void A_tie_keeps_the_earlier_annotators_shape()
    {
        var a = Box(Car, 0, 0, 10, 10);
        var b = Box(Car, 1, 0, 10, 10);
        var result = ConsensusMerge.Merge([[a], [b]], 100, 100, 0.5, 1.0);
        Assert.Equal(a.Id, Assert.Single(result.Merged).Kept.Id);
        Assert.Equal(1.0, result.Agreement);
    }
}
