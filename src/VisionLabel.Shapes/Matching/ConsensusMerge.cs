namespace VisionLabel.Shapes.Matching;

/// <summary>A merged shape: the member kept (see <see cref="ConsensusMerge"/>), how many annotators voted for it, and the members.</summary>
public sealed record MergedShape(MatchItem Kept, int Votes, IReadOnlyList<Guid> Members);

/// <summary>The agreement of N annotations of one image and the shapes a quorum of them agrees on.</summary>
public sealed record ConsensusResult(double Agreement, int Required, IReadOnlyList<MergedShape> Merged, IReadOnlyList<double> PairF1);

/// <summary>
/// Consensus over N independent annotations of one image (docs/quality.md), with the one matching engine:
/// <list type="number">
/// <item>Every pair of annotators (a, b), a before b, is matched with <see cref="ShapeMatcher.Match"/> (a as the
/// reference); the pair's F1 is that match's F1, and 1 when both are empty (they agree there is nothing).</item>
/// <item>Agreement = the mean of the pairs' F1 (1 with fewer than two annotations).</item>
/// <item>Shapes joined by matched pairs form groups (connected components). A group's votes are the distinct annotators
/// in it; a group with at least ceil(N·q) votes is kept.</item>
/// <item>A kept group is represented by its member with the largest sum of IoU over its matched pairs (the medoid of the
/// group); a tie goes to the earlier annotator, then the smaller id.</item>
/// </list>
/// Pure and deterministic: the same annotations give the same result in any process.
/// </summary>
public static class ConsensusMerge
{
    public static int Required(int annotators, double quorum) => Math.Max(1, (int)Math.Ceiling(annotators * quorum - 1e-9));

    public static ConsensusResult Merge(IReadOnlyList<IReadOnlyList<MatchItem>> annotations, int height, int width, double tau, double quorum)
    {
        int n = annotations.Count;
        int required = Required(n, quorum);
        var owner = new Dictionary<Guid, int>();
        var items = new Dictionary<Guid, MatchItem>();
        for (int a = 0; a < n; a++)
            foreach (var item in annotations[a].Where(i => !i.Crowd)) { owner[item.Id] = a; items[item.Id] = item; }
        var parent = items.Keys.ToDictionary(k => k, k => k);
        var iouSum = items.Keys.ToDictionary(k => k, _ => 0.0);
        var pairF1 = new List<double>();
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++)
            {
                var match = ShapeMatcher.Match(annotations[a], annotations[b], height, width, tau);
                bool bothEmpty = annotations[a].All(i => i.Crowd) && annotations[b].All(i => i.Crowd);
                pairF1.Add(bothEmpty ? 1 : match.Counts.F1);
                foreach (var p in match.Pairs)
                {
                    Union(parent, p.Truth, p.Submitted);
                    iouSum[p.Truth] += p.Iou;
                    iouSum[p.Submitted] += p.Iou;
                }
            }
        double agreement = pairF1.Count == 0 ? 1 : pairF1.Average();
        var merged = items.Keys.GroupBy(k => Find(parent, k))
            .Select(g => g.OrderByDescending(id => iouSum[id]).ThenBy(id => owner[id]).ThenBy(id => id).ToList())
            .Select(members => new MergedShape(items[members[0]], members.Select(m => owner[m]).Distinct().Count(), members))
            .Where(m => m.Votes >= required)
            .OrderBy(m => owner[m.Kept.Id]).ThenBy(m => m.Kept.Id)
            .ToList();
        return new ConsensusResult(agreement, required, merged, pairF1);
    }

    private static Guid Find(Dictionary<Guid, Guid> parent, Guid x)
    {
        while (parent[x] != x) { parent[x] = parent[parent[x]]; x = parent[x]; }
        return x;
    }

    private static void Union(Dictionary<Guid, Guid> parent, Guid a, Guid b)
    {
        Guid ra = Find(parent, a), rb = Find(parent, b);
        if (ra != rb) parent[rb] = ra;
    }
}
