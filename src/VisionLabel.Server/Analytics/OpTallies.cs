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

/// <summary>How far an image's op log has been counted into the tallies.</summary>
public sealed class OpTallyMark
{
    public Guid ImageId { get; set; }
    public long Seq { get; set; }
}

/// <summary>
/// The op log counted once (docs/analytics.md): the people figures read these tallies instead of the whole log, and
/// each report first counts the ops added since the last one (<see cref="CatchUpAsync"/>). One catch-up at a time per
/// project (PostgreSQL: an advisory lock; SQLite: its write lock and this process's gate). The marks are the highest
/// seq of each image that the count itself read, so an op committed meanwhile is counted next time, never twice.
/// </summary>
public sealed class OpTallies(VisionLabelDb db)
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, SemaphoreSlim> Gates = new();

    public async Task CatchUpAsync(Guid projectId, CancellationToken ct)
    {
        var gate = Gates.GetOrAdd(projectId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            await AdvisoryLocks.ForProjectAsync(db, AdvisoryLocks.OpTallies, projectId, ct);
            // The images with ops above their mark, found by one index seek each (a subquery, not a list: there may be many).
            var changed = db.Images.IgnoreQueryFilters().Where(i => i.ProjectId == projectId && db.AnnotationOps.Any(o => o.ImageId == i.Id
                && o.Seq > (db.OpTallyMarks.Where(m => m.ImageId == i.Id).Select(m => (long?)m.Seq).FirstOrDefault() ?? 0))).Select(i => i.Id);
            var fresh = await (from o in db.AnnotationOps.AsNoTracking()
                               where changed.Contains(o.ImageId)
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
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            db.ChangeTracker.Clear();
        }
        finally { gate.Release(); }
    }
}
