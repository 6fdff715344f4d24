using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Analytics;

/// <summary>
/// One submission's turnaround (docs/analytics.md), kept per person, image and UTC day: from the person's last lease of
/// the image before it, and to the first review decision after it. Derived from the workflow's events by
/// <see cref="Turnarounds.CountAsync"/>, so the people figures read one row per submission instead of every event.
/// </summary>
public sealed class Turnaround
{
    /// <summary>The submission's WorkEvent (Submitted or AutoApproved).</summary>
    public Guid SubmissionId { get; set; }
    public Guid ProjectId { get; set; }
    public Guid ImageId { get; set; }
    public required string Annotator { get; set; }
    public DateOnly Day { get; set; }
    public DateTime SubmittedAt { get; set; }
    public string? GuidelineVersion { get; set; }
    /// <summary>The image's rework round when it was submitted (0: first pass).</summary>
    public int Round { get; set; }
    /// <summary>Approved at once (no review): it never gets a decision.</summary>
    public bool AutoApproved { get; set; }
    /// <summary>From their last lease of the image before the submission; null when they held none.</summary>
    public double? LeaseToSubmitSeconds { get; set; }
    public Guid? DecisionId { get; set; }
    /// <summary>The first review decision after the submission: approved (true) or rejected (false); null while undecided.</summary>
    public bool? Approved { get; set; }
    public double? SubmitToDecisionSeconds { get; set; }
}

public static class Turnarounds
{
    /// <summary>Adds the submissions stamped since <paramref name="since"/> (null: all) and gives open ones the decision
    /// that followed. Idempotent over the overlap: a submission already kept, or one already decided, is left as it is.</summary>
    public static async Task CountAsync(VisionLabelDb db, Guid projectId, DateTime? since, CancellationToken ct)
    {
        // No AsNoTracking here: EF applies it to any query the window is a subquery of, and the kept rows below must be
        // tracked for their decisions to be saved.
        var window = db.WorkEvents.Where(e => e.ProjectId == projectId && (since == null || e.At >= since)
            && (e.Kind == WorkEventKind.Submitted || e.Kind == WorkEventKind.AutoApproved || e.Kind == WorkEventKind.Approved || e.Kind == WorkEventKind.Rejected));
        var recent = await window.AsNoTracking().OrderBy(e => e.Id).Select(e => new { e.Id, e.ImageId, e.Kind, e.Actor, e.At, e.Round, e.GuidelineVersion }).ToListAsync(ct);
        if (recent.Count == 0) return;
        // The images concerned, as a subquery (on a first count that is every image of the project).
        var images = window.Select(e => e.ImageId);
        var kept = (await db.Turnarounds.Where(t => t.ProjectId == projectId && images.Contains(t.ImageId)).ToListAsync(ct))
            .ToDictionary(t => t.SubmissionId);
        var leases = (await db.WorkEvents.AsNoTracking().Where(e => e.ProjectId == projectId && e.Kind == WorkEventKind.Leased && images.Contains(e.ImageId))
            .Select(e => new { e.Id, e.ImageId, e.Actor, e.At }).ToListAsync(ct)).ToLookup(e => (e.ImageId, e.Actor));
        var open = kept.Values.Where(t => t.DecisionId is null && !t.AutoApproved).ToLookup(t => t.ImageId).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var e in recent) // in id (time) order
        {
            if (e.Kind is WorkEventKind.Submitted or WorkEventKind.AutoApproved)
            {
                if (kept.ContainsKey(e.Id)) continue;
                var lease = leases[(e.ImageId, e.Actor)].Where(l => l.Id.CompareTo(e.Id) < 0).MaxBy(l => l.Id);
                var row = new Turnaround
                {
                    SubmissionId = e.Id, ProjectId = projectId, ImageId = e.ImageId, Annotator = e.Actor, Day = DateOnly.FromDateTime(e.At), SubmittedAt = e.At,
                    GuidelineVersion = e.GuidelineVersion, Round = e.Round, AutoApproved = e.Kind == WorkEventKind.AutoApproved,
                    LeaseToSubmitSeconds = lease is null ? null : (e.At - lease.At).TotalSeconds,
                };
                db.Turnarounds.Add(row);
                kept[e.Id] = row;
                if (!row.AutoApproved) (open.TryGetValue(e.ImageId, out var list) ? list : open[e.ImageId] = []).Add(row);
            }
            else if (open.TryGetValue(e.ImageId, out var waiting))
            {
                foreach (var row in waiting.Where(r => r.SubmissionId.CompareTo(e.Id) < 0))
                {
                    row.DecisionId = e.Id;
                    row.Approved = e.Kind == WorkEventKind.Approved;
                    row.SubmitToDecisionSeconds = (e.At - row.SubmittedAt).TotalSeconds;
                }
                waiting.RemoveAll(r => r.DecisionId is not null);
            }
        }
    }
}
