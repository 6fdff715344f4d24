using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Notifications;

public sealed record NotificationList(IReadOnlyList<NotificationDto> Items, int Unread);

/// <summary>Which notifications to mark read: these ids, or all of yours.</summary>
public sealed record MarkRead([property: MaxLength(1000)] IReadOnlyList<Guid>? Ids = null, bool All = false);

public static class NotificationsSetup
{
    public static IServiceCollection AddNotifications(this IServiceCollection services) => services.AddScoped<Notifier>();

    /// <summary>The bell: your latest notifications and how many are unread; marking them read.</summary>
    public static IEndpointRouteBuilder MapNotificationsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/notifications").WithTags("Notifications").WithBodyLimit(Limits.SmallJsonBody);
        group.MapGet("/", List).RequireSignedIn()
            .WithDescription("Your latest notifications (newest first; ?unread=true for unread only, ?limit= up to 200) and your unread count. New ones arrive live on /hubs/live as Notification.");
        group.MapPost("/read", Read).RequireSignedIn().WithDescription("Marks {ids} (or {all: true}) of your notifications read; answers the list as GET does.");
        return app;
    }

    private static async Task<Results<Ok<NotificationList>, ValidationProblem>> List(HttpContext context, VisionLabelDb db, bool? unread, int? limit, CancellationToken ct)
    {
        if (limit is < 1 or > 200) return Problems.Invalid("limit", $"must be between 1 and 200, not {limit}");
        return TypedResults.Ok(await ListAsync(db, context.Caller().UserName, unread == true, limit ?? 50, ct));
    }

    private static async Task<Results<Ok<NotificationList>, ValidationProblem>> Read(MarkRead request, HttpContext context, VisionLabelDb db, CancellationToken ct)
    {
        string me = context.Caller().UserName;
        if (!request.All && (request.Ids is null || request.Ids.Count == 0)) return Problems.Invalid("ids", "name the notifications to mark read, or send {\"all\": true}");
        var mine = db.Notifications.Where(n => n.UserName == me && n.ReadAt == null);
        if (!request.All) { var ids = request.Ids!.ToList(); mine = mine.Where(n => ids.Contains(n.Id)); }
        var now = DateTime.UtcNow;
        await mine.ExecuteUpdateAsync(s => s.SetProperty(n => n.ReadAt, now), ct);
        return TypedResults.Ok(await ListAsync(db, me, false, 50, ct));
    }

    private static async Task<NotificationList> ListAsync(VisionLabelDb db, string me, bool unreadOnly, int limit, CancellationToken ct)
    {
        var query = db.Notifications.AsNoTracking().Where(n => n.UserName == me);
        if (unreadOnly) query = query.Where(n => n.ReadAt == null);
        var items = await query.OrderByDescending(n => n.Id).Take(limit).ToListAsync(ct); // ids are v7: newest first
        int unread = await db.Notifications.CountAsync(n => n.UserName == me && n.ReadAt == null, ct);
        return new(items.Select(NotificationDto.From).ToList(), unread);
    }
}
