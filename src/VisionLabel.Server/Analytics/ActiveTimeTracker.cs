using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Analytics;

/// <summary>
/// Active time, measured on the server from the editor's activity events (docs/analytics.md): at each event on an image,
/// the gap since the person's previous event on that image counts when it is at most the project's cutoff (default 60 s)
/// and the previous event did not say the page was hidden. The times are the server's (when each event arrived), never
/// a duration a client reports. Events of one person on one image are taken one at a time in this process.
/// </summary>
public sealed class ActiveTimeTracker(VisionLabelDb db, TimeProvider time) : IActivityObserver
{
    private static readonly SemaphoreSlim[] Stripes = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    public async Task ActivityAsync(Guid imageId, string userName, bool hidden)
    {
        var gate = Stripes[(HashCode.Combine(userName, imageId) & int.MaxValue) % Stripes.Length];
        await gate.WaitAsync();
        try
        {
            var clock = time.GetUtcNow().UtcDateTime;
            // To the microsecond, as PostgreSQL keeps it: a gap from a stored time is then exact on every database.
            var now = new DateTime(clock.Ticks - clock.Ticks % 10, DateTimeKind.Utc);
            var cursor = await db.ActivityCursors.FirstOrDefaultAsync(c => c.UserName == userName && c.ImageId == imageId);
            if (cursor is null)
            {
                var projectId = await db.Images.IgnoreQueryFilters().Where(i => i.Id == imageId).Select(i => (Guid?)i.ProjectId).FirstOrDefaultAsync();
                if (projectId is null) return;
                db.ActivityCursors.Add(new ActivityCursor { UserName = userName, ImageId = imageId, ProjectId = projectId.Value, LastAt = now, Hidden = hidden });
            }
            else
            {
                double gap = (now - cursor.LastAt).TotalSeconds;
                int cutoff = await db.Projects.Where(p => p.Id == cursor.ProjectId).Select(p => p.ActiveTimeCutoffSeconds).FirstOrDefaultAsync();
                if (!cursor.Hidden && gap > 0 && gap <= cutoff)
                {
                    var day = DateOnly.FromDateTime(cursor.LastAt);
                    var row = await db.ActiveTimes.FirstOrDefaultAsync(a => a.UserName == userName && a.ImageId == imageId && a.Day == day);
                    if (row is null) db.ActiveTimes.Add(row = new ActiveTime { UserName = userName, ImageId = imageId, Day = day, ProjectId = cursor.ProjectId });
                    row.Seconds += gap;
                    row.Spans++;
                }
                if (now > cursor.LastAt) cursor.LastAt = now;
                cursor.Hidden = hidden;
            }
            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
        }
        finally { gate.Release(); }
    }
}
