using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Analytics;

/// <summary>How many ops one person made on one UTC day under one guideline version on objects of one label: creates,
/// or the rest (updates, deletes, undo and redo). LabelId is the object's label when the op was counted (empty when the
/// object was already gone); GuidelineVersion is "" before any was published.</summary>
public sealed class OpTally
{
    public Guid ProjectId { get; set; }
    public required string Author { get; set; }
    public DateOnly Day { get; set; }
    public required string GuidelineVersion { get; set; }
    public Guid LabelId { get; set; }
    public bool Create { get; set; }
    public long Count { get; set; }
}

/// <summary>When a project's op log and workflow events were last counted (<see cref="Tallies"/>): the next count looks
/// only at what was stamped since then, less <see cref="Tallies.Slack"/>. Null: never counted.</summary>
public sealed class AnalyticsCursor
{
    public Guid ProjectId { get; set; }
    public DateTime? OpsCountedAt { get; set; }
    public DateTime? EventsCountedAt { get; set; }
}

/// <summary>How far an image's op log has been counted into the tallies.</summary>
public sealed class OpTallyMark
{
    public Guid ImageId { get; set; }
    public long Seq { get; set; }
}

/// <summary>
/// The op log counted once (docs/analytics.md): the people figures read these tallies instead of the whole log. The
/// marks are the highest seq of each image that a count itself read, so an op committed meanwhile is counted next
/// time, never twice. Which images to look at: all of them the first time; then those with ops applied since the last
/// count began (less the slack: an op is stamped when applied and committed a moment later; the marks keep the overlap
/// from counting anything twice), found through the index on the ops' time rather than a seek per image.
/// </summary>
public static class OpTallies
{
    /// <param name="since">Null: the first count, every image.</param>
    public static async Task CountAsync(VisionLabelDb db, Guid projectId, DateTime? since, CancellationToken ct)
    {
        var inProject = db.Images.IgnoreQueryFilters().Where(i => i.ProjectId == projectId);
        // The images that may have ops above their mark (a subquery, not a list: there may be many).
        var changed = since is not { } s
            ? inProject.Where(i => db.AnnotationOps.Any(o => o.ImageId == i.Id)).Select(i => i.Id)
            : db.AnnotationOps.Where(o => o.AppliedAt >= s && inProject.Any(i => i.Id == o.ImageId)).Select(o => o.ImageId).Distinct();
        var ops = db.AnnotationOps.AsNoTracking().Where(o => changed.Contains(o.ImageId));
        if (since is not null)
        {
            // Usually a few images since the last count: their ids as a list (a seek each); many, the subquery.
            var few = await changed.Take(1001).ToListAsync(ct);
            if (few.Count == 0) return;
            if (few.Count <= 1000) ops = db.AnnotationOps.AsNoTracking().Where(o => few.Contains(o.ImageId));
        }
        var fresh = await (from o in ops
                           join m in db.OpTallyMarks on o.ImageId equals m.ImageId into marks
                           from m in marks.DefaultIfEmpty()
                           join a in db.Annotations.IgnoreQueryFilters() on o.AnnotationId equals a.Id into objects
                           from a in objects.DefaultIfEmpty()
                           where o.Seq > (m == null ? 0 : m.Seq)
                           group o by new { o.ImageId, o.AuthorId, o.AppliedAt.Date, o.GuidelineVersion, LabelId = (Guid?)a!.LabelId, Create = o.Type == OpType.Create } into g
                           select new { g.Key.ImageId, g.Key.AuthorId, g.Key.Date, g.Key.GuidelineVersion, g.Key.LabelId, g.Key.Create, Count = g.LongCount(), Top = g.Max(o => o.Seq) })
            .ToListAsync(ct);
        if (fresh.Count == 0) return;
        var existing = await db.OpTallies.Where(t => t.ProjectId == projectId).ToListAsync(ct);
        var byKey = existing.ToDictionary(t => (t.Author, t.Day, t.GuidelineVersion, t.LabelId, t.Create));
        foreach (var g in fresh.GroupBy(f => (f.AuthorId, Day: DateOnly.FromDateTime(f.Date), Version: f.GuidelineVersion ?? "", Label: f.LabelId ?? Guid.Empty, f.Create)))
        {
            if (!byKey.TryGetValue(g.Key, out var tally))
            {
                tally = new OpTally { ProjectId = projectId, Author = g.Key.AuthorId, Day = g.Key.Day, GuidelineVersion = g.Key.Version, LabelId = g.Key.Label, Create = g.Key.Create };
                db.OpTallies.Add(tally);
                byKey[g.Key] = tally;
            }
            tally.Count += g.Sum(x => x.Count);
        }
        var tops = fresh.GroupBy(f => f.ImageId).ToDictionary(g => g.Key, g => g.Max(x => x.Top));
        foreach (var chunk in tops.Keys.Chunk(500))
        {
            var marks = await db.OpTallyMarks.Where(m => chunk.Contains(m.ImageId)).ToDictionaryAsync(m => m.ImageId, ct);
            foreach (var id in chunk)
                if (marks.TryGetValue(id, out var mark)) mark.Seq = tops[id];
                else db.OpTallyMarks.Add(new OpTallyMark { ImageId = id, Seq = tops[id] });
        }
    }
}
