using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;
using VisionLabel.Server.Jobs;

namespace VisionLabel.Server.Notifications;

public sealed record NotificationDto(Guid Id, NotificationKind Kind, Guid ProjectId, Guid? ImageId, string Text, DateTime CreatedAt, DateTime? ReadAt)
{
    public static NotificationDto From(Notification n) => new(n.Id, n.Kind, n.ProjectId, n.ImageId, n.Text, n.CreatedAt, n.ReadAt);
}

/// <summary>
/// Stores notifications and pushes each to its person's connections on /hubs/live as Notification (every connection
/// of a signed-in user is in their user group, on every process through the backplane). A failed push is logged:
/// the row is stored, and the bell reads it on its next load.
/// </summary>
public sealed class Notifier(VisionLabelDb db, IHubContext<LiveHub> live, ILogger<Notifier> log)
{
    /// <summary>Longest text kept (a rejection comment can be long; the bell shows the start).</summary>
    public const int MaxText = 500;

    public async Task NotifyAsync(IEnumerable<string?> people, NotificationKind kind, Guid projectId, Guid? imageId, string text, string? except = null)
    {
        var now = DateTime.UtcNow;
        var rows = people.Where(p => !string.IsNullOrEmpty(p) && p != except).Distinct().Select(p => new Notification
        {
            UserName = p!, Kind = kind, ProjectId = projectId, ImageId = imageId, Text = text.Length <= MaxText ? text : text[..(MaxText - 1)] + "…", CreatedAt = now,
        }).ToList();
        if (rows.Count == 0) return;
        db.Notifications.AddRange(rows);
        await db.SaveChangesAsync(CancellationToken.None);
        foreach (var row in rows)
        {
            try { await live.Clients.Group(LiveHub.UserGroup(row.UserName)).SendAsync("Notification", NotificationDto.From(row), CancellationToken.None); }
            catch (Exception e) { log.LogWarning(e, "Pushing a notification to {User} failed; it is stored and shows on their next load", row.UserName); }
        }
    }
}
