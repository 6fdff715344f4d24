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
    double? MedianLeaseToSubmitSeconds, double? MedianSubmitToApprovedSeconds, int ProposalsDecided, double? ProposalsAcceptedUnchanged,
    IReadOnlyList<LabelKpis> Labels, IReadOnlyList<string> Flags);

public sealed record PeopleReport(DateTime? From, DateTime? To, string? GuidelineVersion, IReadOnlyList<PersonKpis> People);

/// <summary>
/// Annotator KPIs (docs/analytics.md): from the workflow's events, the op log, the active time the editor's events
/// measured, and the quality figures. Everything is counted over [from, to) by when it happened.
/// </summary>
public sealed class PeopleAnalytics(VisionLabelDb db, Quality.QualityReports quality, Tallies tallies, TimeProvider time)
{
    public async Task<PeopleReport> ReportAsync(Project project, DateTime? from, DateTime? to, string? guidelineVersion, string? only, CancellationToken ct)
    {
        // The op log and the workflow's events are read as their tallies, brought up to date first: one row per person,
        // day and label for ops, one per submission for turnaround; the rest of the events are counted by the database.
        // Not cancelled with the request: a first count of a long history, cut short, would start over next time.
        await tallies.CatchUpAsync(project.Id, time, CancellationToken.None);
        var events = db.WorkEvents.AsNoTracking().Where(e => e.ProjectId == project.Id);
        if (from is { } f) events = events.Where(e => e.At >= f);
        if (to is { } t) events = events.Where(e => e.At < t);
        // The guideline version applies to what is made under it (submissions); leases, skips and reviews are kept.
        var submissions = db.Turnarounds.AsNoTracking().Where(s => s.ProjectId == project.Id);
        if (from is { } f1) submissions = submissions.Where(s => s.SubmittedAt >= f1);
        if (to is { } t1) submissions = submissions.Where(s => s.SubmittedAt < t1);
        if (guidelineVersion is not null) submissions = submissions.Where(s => s.GuidelineVersion == guidelineVersion);
        if (only is not null)
        {
            events = events.Where(e => e.Actor == only || e.Subject == only);
            submissions = submissions.Where(s => s.Annotator == only);
        }

        // One read of the submissions (a few numbers each) and one grouped count of the other events.
        var turnarounds = (await submissions.Select(s => new { s.Annotator, s.ImageId, s.Round, s.AutoApproved, s.LeaseToSubmitSeconds, s.Approved, s.SubmitToDecisionSeconds })
            .ToListAsync(ct)).ToLookup(s => s.Annotator);
        var counted = await events.Where(e => e.Kind == WorkEventKind.Leased || e.Kind == WorkEventKind.Released || e.Kind == WorkEventKind.Rejected)
            .GroupBy(e => new { e.Kind, e.Actor, e.Stage, Own = e.Subject == e.Actor, Rejected = e.Kind == WorkEventKind.Rejected ? e.Subject : null, Reason = e.Kind == WorkEventKind.Rejected ? e.Reason : null })
            .Select(g => new { g.Key.Kind, g.Key.Actor, g.Key.Stage, g.Key.Own, g.Key.Rejected, g.Key.Reason, Count = g.Count() }).ToListAsync(ct);
        var leases = counted.Where(c => c.Kind == WorkEventKind.Leased && c.Stage == WorkStage.Annotate).GroupBy(c => c.Actor).ToDictionary(g => g.Key, g => g.Sum(c => c.Count));
        var skips = counted.Where(c => c.Kind == WorkEventKind.Released && c.Own).GroupBy(c => c.Actor).ToDictionary(g => g.Key, g => g.Sum(c => c.Count));
        var rejections = counted.Where(c => c.Kind == WorkEventKind.Rejected && c.Rejected != null).ToLookup(c => c.Rejected!);
        // The people who worked: took or submitted work, or were active in the editor (jobs and the consensus merge are not people).
        var workers = counted.Where(c => c.Kind == WorkEventKind.Leased).Select(c => c.Actor).Concat(turnarounds.Select(t => t.Key));

        var tallyQuery = db.OpTallies.AsNoTracking().Where(t => t.ProjectId == project.Id);
        if (from is { } f2) { var d = DateOnly.FromDateTime(f2); tallyQuery = tallyQuery.Where(t => t.Day >= d); }
        if (to is { } t2) { var d = DateOnly.FromDateTime(t2.AddTicks(-1)); tallyQuery = tallyQuery.Where(t => t.Day <= d); }
        if (guidelineVersion is not null) tallyQuery = tallyQuery.Where(t => t.GuidelineVersion == guidelineVersion);
        if (only is not null) tallyQuery = tallyQuery.Where(t => t.Author == only);
        var ops = (await tallyQuery.GroupBy(t => new { t.Author, t.LabelId, t.Create }).Select(g => new { g.Key.Author, g.Key.LabelId, g.Key.Create, Count = g.Sum(t => t.Count) }).ToListAsync(ct))
            .Select(t => new { t.Author, t.Create, LabelId = t.LabelId == Guid.Empty ? (Guid?)null : t.LabelId, t.Count }).ToList();
        var labelNames = await db.Labels.AsNoTracking().Where(l => l.ProjectId == project.Id).ToDictionaryAsync(l => l.Id, l => l.Name, ct);
        // Active time is kept per UTC day: a range takes the days it starts on and the days before it ends.
        var activeQuery = db.ActiveTimes.AsNoTracking().Where(a => a.ProjectId == project.Id);
        if (from is { } f3) { var d = DateOnly.FromDateTime(f3); activeQuery = activeQuery.Where(a => a.Day >= d); }
        if (to is { } t3) { var d = DateOnly.FromDateTime(t3.AddTicks(-1)); activeQuery = activeQuery.Where(a => a.Day <= d); }
        if (only is not null) activeQuery = activeQuery.Where(a => a.UserName == only);
        var active = (await activeQuery.GroupBy(a => a.UserName).Select(g => new { g.Key, Seconds = g.Sum(a => a.Seconds), Images = g.Select(a => a.ImageId).Distinct().Count() })
            .ToListAsync(ct)).ToDictionary(a => a.Key);
        var gt = (await quality.ReportAsync(project.Id, Quality.QualityGrouping.Annotator, 0.5, ct, only)).Rows.ToDictionary(r => r.Key, r => r.F1);
        var agreements = (await db.Images.IgnoreQueryFilters().AsNoTracking()
            .Where(i => i.ProjectId == project.Id && i.ReplicaOf != null && i.ReplicaKind == ReplicaKind.Consensus && (only == null || i.ReplicaOwner == only))
            .Select(i => new { i.ReplicaOwner, Agreement = db.Images.Where(p => p.Id == i.ReplicaOf).Select(p => p.Agreement).FirstOrDefault() })
            .Where(c => c.Agreement != null).ToListAsync(ct)).ToLookup(c => c.ReplicaOwner!, c => c.Agreement!.Value);

        // Model proposals they decided on (the last person to settle each one's outcome), by when it was settled.
        var proposalQuery = db.ProposalOutcomes.AsNoTracking().Where(o => o.ProjectId == project.Id && o.DecidedBy != null);
        if (from is { } f4) proposalQuery = proposalQuery.Where(o => o.UpdatedAt >= f4);
        if (to is { } t4) proposalQuery = proposalQuery.Where(o => o.UpdatedAt < t4);
        if (only is not null) proposalQuery = proposalQuery.Where(o => o.DecidedBy == only);
        var proposals = await proposalQuery.GroupBy(o => o.DecidedBy!)
            .Select(g => new { g.Key, Decided = g.Count(), Unchanged = g.Count(o => o.Outcome == ProposalOutcomeKind.AcceptedUnchanged) }).ToDictionaryAsync(x => x.Key, ct);

        var people = workers.Concat(active.Keys).Concat(proposals.Keys).Where(p => p != Quality.Consensus.Author)
            .Distinct().Where(p => only is null || p == only).Order(StringComparer.Ordinal).ToList();
        var opsOf = ops.ToLookup(o => o.Author);
        var rows = people.Select(p =>
        {
            var mine = turnarounds[p].ToList();
            // First pass: their round-0 submissions a reviewer then decided on; accepted = the first decision approved it.
            var firstPass = mine.Where(s => !s.AutoApproved && s.Round == 0 && s.Approved != null).ToList();
            var myOps = opsOf[p].ToList();
            long created = myOps.Where(o => o.Create).Sum(o => o.Count), edited = myOps.Where(o => !o.Create).Sum(o => o.Count);
            double seconds = Math.Round(active.TryGetValue(p, out var a) ? a.Seconds : 0, 3); // the figures below derive from it as shown
            int activeImages = a?.Images ?? 0;
            int leased = leases.GetValueOrDefault(p), skipped = skips.GetValueOrDefault(p);
            var rejected = rejections[p].ToList();
            var myAgreements = agreements[p].ToList();
            var labels = myOps.Where(o => o.LabelId is not null).GroupBy(o => o.LabelId!.Value)
                .Select(g => new LabelKpis(labelNames.GetValueOrDefault(g.Key, g.Key.ToString()), g.Where(o => o.Create).Sum(o => o.Count), g.Where(o => !o.Create).Sum(o => o.Count)))
                .OrderBy(l => l.Label, StringComparer.Ordinal).ToList();
            return new PersonKpis(p, mine.Select(s => s.ImageId).Distinct().Count(), created, edited, seconds,
                seconds > 0 ? Math.Round((created + edited) / (seconds / 3600), 6) : null,
                activeImages > 0 ? Math.Round(seconds / activeImages, 6) : null,
                firstPass.Count, firstPass.Count > 0 ? Math.Round((double)firstPass.Count(s => s.Approved == true) / firstPass.Count, 6) : null,
                rejected.Sum(r => r.Count), rejected.GroupBy(r => r.Reason ?? "none").ToDictionary(g => g.Key, g => g.Sum(r => r.Count)),
                gt.TryGetValue(p, out var f1) ? Math.Round(f1, 6) : null, myAgreements.Count > 0 ? Math.Round(myAgreements.Average(), 6) : null,
                leased, skipped, leased > 0 ? Math.Round((double)skipped / leased, 6) : null,
                Median(mine.Where(s => s.LeaseToSubmitSeconds != null).Select(s => s.LeaseToSubmitSeconds!.Value).ToList()),
                Median(mine.Where(s => s.Approved == true).Select(s => s.SubmitToDecisionSeconds!.Value).ToList()),
                proposals.TryGetValue(p, out var decided) ? decided.Decided : 0, decided is { Decided: > 0 } ? Math.Round((double)decided.Unchanged / decided.Decided, 6) : null,
                labels, []);
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
