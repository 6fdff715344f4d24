using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Analytics;

/// <summary>One label's share of a person's work: objects they created and edited with it.</summary>
public sealed record LabelKpis(string Label, long Created, long Edited);

/// <summary>
/// One person's figures over the range (docs/analytics.md defines each). Null where the figure has no denominator
/// (no active time, nothing reviewed, no ground truth).
/// </summary>
public sealed record PersonKpis(string User, int ImagesSubmitted, long ObjectsCreated, long ObjectsEdited, double ActiveSeconds,
    double? ObjectsPerActiveHour, double? MeanActiveSecondsPerImage, int FirstPassReviewed, double? FirstPassAcceptance, int ReworkRounds,
    IReadOnlyDictionary<string, int> RejectReasons, double? GtF1, double? Agreement, int Leases, int Skips, double? SkipRate,
    double? MedianLeaseToSubmitSeconds, double? MedianSubmitToApprovedSeconds, IReadOnlyList<LabelKpis> Labels, IReadOnlyList<string> Flags);

public sealed record PeopleReport(DateTime? From, DateTime? To, string? GuidelineVersion, IReadOnlyList<PersonKpis> People);

/// <summary>
/// Annotator KPIs (docs/analytics.md): from the workflow's events, the op log, the active time the editor's events
/// measured, and the quality figures. Everything is counted over [from, to) by when it happened.
/// </summary>
public sealed class PeopleAnalytics(VisionLabelDb db, Quality.QualityReports quality, OpTallies tallies)
{
    public async Task<PeopleReport> ReportAsync(Project project, DateTime? from, DateTime? to, string? guidelineVersion, string? only, CancellationToken ct)
    {
        var eventQuery = db.WorkEvents.AsNoTracking().Where(e => e.ProjectId == project.Id);
        if (from is { } f) eventQuery = eventQuery.Where(e => e.At >= f);
        if (to is { } t) eventQuery = eventQuery.Where(e => e.At < t);
        // The guideline version applies to what is made under it (submissions); leases, skips and reviews are kept.
        if (guidelineVersion is not null)
            eventQuery = eventQuery.Where(e => e.GuidelineVersion == guidelineVersion || (e.Kind != WorkEventKind.Submitted && e.Kind != WorkEventKind.AutoApproved));
        var events = await eventQuery.OrderBy(e => e.Id).ToListAsync(ct);
        // Reviews may come after the range ends: first-pass acceptance and turnaround look at every later decision.
        var decisions = (await db.WorkEvents.AsNoTracking().Where(e => e.ProjectId == project.Id && (e.Kind == WorkEventKind.Approved || e.Kind == WorkEventKind.Rejected))
            .OrderBy(e => e.Id).Select(e => new { e.Id, e.ImageId, e.Kind, e.At }).ToListAsync(ct)).ToLookup(e => e.ImageId);
        // Objects created and edited: from the op log's tallies (counted once, per UTC day), brought up to date first.
        await tallies.CatchUpAsync(project.Id, ct);
        var tallyQuery = db.OpTallies.AsNoTracking().Where(t => t.ProjectId == project.Id);
        if (from is { } f2) { var d = DateOnly.FromDateTime(f2); tallyQuery = tallyQuery.Where(t => t.Day >= d); }
        if (to is { } t2) { var d = DateOnly.FromDateTime(t2.AddTicks(-1)); tallyQuery = tallyQuery.Where(t => t.Day <= d); }
        if (guidelineVersion is not null) tallyQuery = tallyQuery.Where(t => t.GuidelineVersion == guidelineVersion);
        var ops = (await tallyQuery.ToListAsync(ct))
            .Select(t => new { AuthorId = t.Author, t.Create, LabelId = t.LabelId == Guid.Empty ? (Guid?)null : t.LabelId, t.Count }).ToList();
        var labelNames = await db.Labels.AsNoTracking().Where(l => l.ProjectId == project.Id).ToDictionaryAsync(l => l.Id, l => l.Name, ct);
        // Active time is kept per UTC day: a range takes the days it starts on and the days before it ends.
        var activeQuery = db.ActiveTimes.AsNoTracking().Where(a => a.ProjectId == project.Id);
        if (from is { } f3) { var d = DateOnly.FromDateTime(f3); activeQuery = activeQuery.Where(a => a.Day >= d); }
        if (to is { } t3) { var d = DateOnly.FromDateTime(t3.AddTicks(-1)); activeQuery = activeQuery.Where(a => a.Day <= d); }
        var active = await activeQuery.ToListAsync(ct);
        var gt = (await quality.ReportAsync(project.Id, Quality.QualityGrouping.Annotator, 0.5, ct)).Rows.ToDictionary(r => r.Key, r => r.F1);
        var copies = await db.Images.IgnoreQueryFilters().AsNoTracking().Where(i => i.ProjectId == project.Id && i.ReplicaKind == ReplicaKind.Consensus)
            .Select(i => new { i.ReplicaOwner, Agreement = db.Images.Where(p => p.Id == i.ReplicaOf).Select(p => p.Agreement).FirstOrDefault() }).ToListAsync(ct);

        // The people who worked: took or submitted work, or were active in the editor (jobs and the consensus merge are not people).
        var people = events.Where(e => e.Kind is WorkEventKind.Leased or WorkEventKind.Submitted or WorkEventKind.AutoApproved).Select(e => e.Actor)
            .Concat(active.Select(a => a.UserName)).Where(p => p != Quality.Consensus.Author)
            .Distinct().Where(p => only is null || p == only).Order(StringComparer.Ordinal).ToList();
        var byActor = events.ToLookup(e => e.Actor);
        var opsOf = ops.ToLookup(o => o.AuthorId);
        var activeOf = active.ToLookup(a => a.UserName);
        var rejectionsOf = events.Where(e => e.Kind == WorkEventKind.Rejected && e.Subject != null).ToLookup(e => e.Subject!);
        var rows = people.Select(p =>
        {
            var mine = byActor[p].ToList(); // in id (time) order
            var submitted = mine.Where(e => e.Kind is WorkEventKind.Submitted or WorkEventKind.AutoApproved).ToList();
            var myOps = opsOf[p].ToList();
            long created = myOps.Where(o => o.Create).Sum(o => o.Count), edited = myOps.Where(o => !o.Create).Sum(o => o.Count);
            var myActive = activeOf[p].ToList();
            double seconds = Math.Round(myActive.Sum(a => a.Seconds), 3); // the figures below derive from it as shown
            int activeImages = myActive.Select(a => a.ImageId).Distinct().Count();
            // First pass: their round-0 submissions that a reviewer then decided on; accepted = the first decision approved it.
            var firstPass = submitted.Where(e => e.Kind == WorkEventKind.Submitted && e.Round == 0)
                .Select(e => decisions[e.ImageId].FirstOrDefault(d => d.Id.CompareTo(e.Id) > 0)).Where(d => d is not null).ToList();
            var rejections = rejectionsOf[p].ToList();
            int leases = mine.Count(e => e.Kind == WorkEventKind.Leased && e.Stage == WorkStage.Annotate);
            int skips = mine.Count(e => e.Kind == WorkEventKind.Released && e.Subject == p);
            // One pass in event order: the last lease of each image before each submission of it.
            var leaseToSubmit = new List<double>();
            var leasedAt = new Dictionary<Guid, DateTime>();
            foreach (var e in mine)
                if (e.Kind == WorkEventKind.Leased) leasedAt[e.ImageId] = e.At;
                else if (e.Kind is WorkEventKind.Submitted or WorkEventKind.AutoApproved && leasedAt.TryGetValue(e.ImageId, out var at)) leaseToSubmit.Add((e.At - at).TotalSeconds);
            var submitToApproved = submitted.Where(s => s.Kind == WorkEventKind.Submitted)
                .Select(s => decisions[s.ImageId].FirstOrDefault(d => d.Id.CompareTo(s.Id) > 0) is { Kind: WorkEventKind.Approved } d ? (d.At - s.At).TotalSeconds : (double?)null)
                .OfType<double>().ToList();
            var agreements = copies.Where(c => c.ReplicaOwner == p && c.Agreement is not null).Select(c => c.Agreement!.Value).ToList();
            var labels = myOps.Where(o => o.LabelId is not null).GroupBy(o => o.LabelId!.Value)
                .Select(g => new LabelKpis(labelNames.GetValueOrDefault(g.Key, g.Key.ToString()), g.Where(o => o.Create).Sum(o => o.Count), g.Where(o => !o.Create).Sum(o => o.Count)))
                .OrderBy(l => l.Label, StringComparer.Ordinal).ToList();
            return new PersonKpis(p, submitted.Select(e => e.ImageId).Distinct().Count(), created, edited, Math.Round(seconds, 3),
                seconds > 0 ? Math.Round((created + edited) / (seconds / 3600), 6) : null,
                activeImages > 0 ? Math.Round(seconds / activeImages, 6) : null,
                firstPass.Count, firstPass.Count > 0 ? Math.Round((double)firstPass.Count(d => d!.Kind == WorkEventKind.Approved) / firstPass.Count, 6) : null,
                rejections.Count, rejections.GroupBy(r => r.Reason ?? "none").ToDictionary(g => g.Key, g => g.Count()),
                gt.TryGetValue(p, out var f1) ? Math.Round(f1, 6) : null, agreements.Count > 0 ? Math.Round(agreements.Average(), 6) : null,
                leases, skips, leases > 0 ? Math.Round((double)skips / leases, 6) : null, Median(leaseToSubmit), Median(submitToApproved), labels, []);
        }).ToList();
        return new PeopleReport(from, to, guidelineVersion, Outliers.Flag(rows, project.AgreementThreshold));
    }

    public static double? Median(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return null;
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return Math.Round(n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2, 6);
    }
}
