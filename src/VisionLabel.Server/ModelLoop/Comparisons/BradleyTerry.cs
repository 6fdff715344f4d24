namespace VisionLabel.Server.ModelLoop;

/// <summary>One judgement between two models: which output the judge preferred (a tie and "both bad" are the same to
/// the ranking: neither is preferred).</summary>
public enum Preference { A, B, Tie, BothBad }

public sealed record Judged(string ModelA, string ModelB, Preference Choice);

/// <summary>A model's standing: games judged, wins (ties half), win rate, and its Bradley–Terry score (the log of its
/// strength, the mean of all models' scores 0) with a 95% bootstrap interval.</summary>
public sealed record Standing(string Model, int Games, double Wins, double? WinRate, double Score, double Low, double High);

/// <summary>
/// The Bradley–Terry ranking of models from pairwise preferences (docs/models-in-the-loop.md): P(i preferred to j) =
/// p_i / (p_i + p_j), fitted by Hunter's MM iteration, each tie or "both bad" counting half a win to each side, and
/// one virtual tie between every pair (so a model that never won still has a finite score). The interval is the 2.5th
/// and 97.5th percentiles of the score over bootstrap resamples of the judgements (a fixed seed: the same judgements
/// give the same interval).
/// </summary>
public static class BradleyTerry
{
    public const int Resamples = 400;

    public static IReadOnlyList<Standing> Rank(IReadOnlyList<string> models, IReadOnlyList<Judged> judgements)
    {
        var scores = Fit(models, judgements);
        var random = new Random(25);
        var samples = models.ToDictionary(m => m, _ => new List<double>(Resamples));
        if (judgements.Count > 0)
            for (int r = 0; r < Resamples; r++)
            {
                var resample = Enumerable.Range(0, judgements.Count).Select(_ => judgements[random.Next(judgements.Count)]).ToList();
                foreach (var (model, score) in Fit(models, resample)) samples[model].Add(score);
            }
        return models.Select(m =>
        {
            var mine = judgements.Where(j => j.ModelA == m || j.ModelB == m).ToList();
            double wins = mine.Sum(j => j.Choice switch
            {
                Preference.A => j.ModelA == m ? 1 : 0,
                Preference.B => j.ModelB == m ? 1 : 0,
                _ => 0.5,
            });
            var s = samples[m].Order().ToList();
            double low = s.Count > 0 ? s[(int)Math.Floor(0.025 * (s.Count - 1))] : scores[m], high = s.Count > 0 ? s[(int)Math.Ceiling(0.975 * (s.Count - 1))] : scores[m];
            return new Standing(m, mine.Count, wins, mine.Count > 0 ? Math.Round(wins / mine.Count, 6) : null, Math.Round(scores[m], 6), Math.Round(low, 6), Math.Round(high, 6));
        }).OrderByDescending(s => s.Score).ThenBy(s => s.Model, StringComparer.Ordinal).ToList();
    }

    /// <summary>Each model's score (log strength, centred on 0).</summary>
    public static Dictionary<string, double> Fit(IReadOnlyList<string> models, IReadOnlyList<Judged> judgements)
    {
        int n = models.Count;
        var index = models.Select((m, i) => (m, i)).ToDictionary(x => x.m, x => x.i);
        var wins = new double[n];
        var games = new double[n, n];
        // The virtual tie between every pair.
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) { games[i, j] += 1; games[j, i] += 1; wins[i] += 0.5; wins[j] += 0.5; }
        foreach (var judged in judgements)
        {
            if (!index.TryGetValue(judged.ModelA, out int a) || !index.TryGetValue(judged.ModelB, out int b) || a == b) continue;
            games[a, b] += 1;
            games[b, a] += 1;
            switch (judged.Choice)
            {
                case Preference.A: wins[a] += 1; break;
                case Preference.B: wins[b] += 1; break;
                default: wins[a] += 0.5; wins[b] += 0.5; break;
            }
        }
        var p = Enumerable.Repeat(1.0, n).ToArray();
        for (int iteration = 0; iteration < 10_000; iteration++)
        {
            var next = new double[n];
            double change = 0;
            for (int i = 0; i < n; i++)
            {
                double denominator = 0;
                for (int j = 0; j < n; j++) if (j != i && games[i, j] > 0) denominator += games[i, j] / (p[i] + p[j]);
                next[i] = denominator > 0 ? wins[i] / denominator : p[i];
            }
            // Strengths are defined up to a factor: keep their geometric mean at 1.
            double logMean = next.Average(Math.Log);
            for (int i = 0; i < n; i++) { next[i] = Math.Exp(Math.Log(next[i]) - logMean); change = Math.Max(change, Math.Abs(next[i] - p[i])); }
            p = next;
            if (change < 1e-10) break;
        }
        return models.Select((m, i) => (m, i)).ToDictionary(x => x.m, x => Math.Log(p[x.i]));
    }
}
