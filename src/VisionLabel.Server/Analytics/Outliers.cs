namespace VisionLabel.Server.Analytics;

/// <summary>
/// Flags on people's figures (docs/analytics.md): invitations to look, worded that way, never verdicts.
/// <list type="bullet">
/// <item>Fast with a low GT F1: mean active time per image below half the team's median, and a GT F1 below the
/// project's bar (agreementThreshold).</item>
/// <item>Far from the team: a figure whose modified z-score 0.6745·(x − median)/MAD (Iglewicz and Hoaglin) is above 3.5
/// in size, among at least 3 people with the figure and a MAD above 0.</item>
/// </list>
/// </summary>
public static class Outliers
{
    public const double ZLimit = 3.5;
    /// <summary>The fewest proposals someone must have decided for their share accepted unchanged to be compared.</summary>
    public const int MinProposalsDecided = 20;

    public static IReadOnlyList<PersonKpis> Flag(IReadOnlyList<PersonKpis> people, double bar)
    {
        var figures = new (string Name, Func<PersonKpis, double?> Get)[]
        {
            ("objects per active hour", p => p.ObjectsPerActiveHour), ("active time per image", p => p.MeanActiveSecondsPerImage),
            ("first-pass acceptance", p => p.FirstPassAcceptance), ("skip rate", p => p.SkipRate),
            ("proposals accepted unchanged", p => p.ProposalsDecided >= MinProposalsDecided ? p.ProposalsAcceptedUnchanged : null),
        };
        var pace = people.Select(p => p.MeanActiveSecondsPerImage).OfType<double>().ToList();
        double? medianPace = pace.Count >= 2 ? PeopleAnalytics.Median(pace) : null;
        return people.Select(p =>
        {
            var flags = new List<string>();
            if (medianPace is { } m && p.MeanActiveSecondsPerImage < m / 2 && p.GtF1 < bar)
                flags.Add($"fast with a low GT F1 ({p.MeanActiveSecondsPerImage:0} s per image against the team's median {m:0} s; F1 {p.GtF1:0.00} below {bar:0.00}): worth a look at their images");
            foreach (var (name, get) in figures)
                if (Z(people.Select(get).OfType<double>().ToList(), get(p)) is { } z && Math.Abs(z) > ZLimit)
                    flags.Add($"{name} far {(z > 0 ? "above" : "below")} the team's (modified z {z:0.0}): worth a look");
            return p with { Flags = flags };
        }).ToList();
    }

    /// <summary>The modified z-score of x among values, or null when it is not defined (fewer than 3 values, MAD 0, no x).</summary>
    public static double? Z(IReadOnlyList<double> values, double? x) => x is { } v ? Scorer(values)(v) : null;

    /// <summary>The modified z-score against values, with their median and MAD computed once (null when not defined).</summary>
    public static Func<double, double?> Scorer(IReadOnlyList<double> values)
    {
        if (values.Count < 3) return _ => null;
        double median = PeopleAnalytics.Median(values)!.Value;
        double mad = PeopleAnalytics.Median(values.Select(y => Math.Abs(y - median)).ToList())!.Value;
        return mad == 0 ? _ => null : x => 0.6745 * (x - median) / mad;
    }
}
