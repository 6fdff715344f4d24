using System.Text.Json;
using System.Text.Json.Serialization;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Webhooks;

/// <summary>
/// Where events enter: RaiseAsync writes one outbox row (WebhookDelivery) per hook of the project that asked for the
/// event, then hands each to Hangfire (WebhookSender). It never throws: a webhook is told about an action, and must not
/// be able to undo or fail it. It works in its own scope (its own DbContext), so the caller's unit of work and
/// transaction are untouched, and it runs after the caller's change has committed.
/// </summary>
public sealed class Webhooks(IServiceScopeFactory scopes, IBackgroundJobClient hangfire, TimeProvider time, ILogger<Webhooks> log)
{
    public const string Queue = "webhooks";

    /// <summary>The payload's JSON: camelCase names and kebab-case enum names, as the HTTP API writes them.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    /// <summary>The body every hook gets: {"id", "event", "at", "projectId", "data"}.</summary>
    private sealed record Payload(Guid Id, string Event, DateTime At, Guid ProjectId, object Data);

    public async Task RaiseAsync(Guid projectId, string @event, object data)
    {
        try
        {
            List<WebhookDelivery> deliveries;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
                var hooks = await db.Webhooks.AsNoTracking().Where(h => h.ProjectId == projectId).Select(h => new { h.Id, h.Events }).ToListAsync();
                var matching = hooks.Where(h => h.Events.Contains(@event)).ToList();
                if (matching.Count == 0) return;
                var now = time.GetUtcNow().UtcDateTime;
                var eventId = Guid.NewGuid();
                string body = JsonSerializer.Serialize(new Payload(eventId, @event, now, projectId, data), Json);
                deliveries = matching.Select(h => new WebhookDelivery
                {
                    WebhookId = h.Id, ProjectId = projectId, EventId = eventId, Event = @event, Payload = body, CreatedAt = now,
                    Status = WebhookDeliveryStatus.Pending, NextAttemptAt = now,
                }).ToList();
                db.WebhookDeliveries.AddRange(deliveries);
                await db.SaveChangesAsync();
            }
            foreach (var delivery in deliveries) Enqueue(delivery.Id, 1);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "Webhook event {Event} of project {ProjectId} could not be queued; the action that raised it stands", @event, projectId);
        }
    }

    /// <summary>Sends a delivery's body again to its hook, as a new delivery (same event id and body) with its own attempts.</summary>
    public async Task<WebhookDelivery?> RedeliverAsync(VisionLabelDb db, Guid projectId, Guid webhookId, Guid deliveryId, CancellationToken ct)
    {
        var original = await db.WebhookDeliveries.AsNoTracking()
            .FirstOrDefaultAsync(d => d.Id == deliveryId && d.WebhookId == webhookId && d.ProjectId == projectId, ct);
        if (original is null) return null;
        var now = time.GetUtcNow().UtcDateTime;
        var copy = new WebhookDelivery
        {
            WebhookId = webhookId, ProjectId = projectId, EventId = original.EventId, Event = original.Event, Payload = original.Payload,
            CreatedAt = now, Status = WebhookDeliveryStatus.Pending, NextAttemptAt = now, RedeliveryOf = original.RedeliveryOf ?? original.Id,
        };
        db.WebhookDeliveries.Add(copy);
        await db.SaveChangesAsync(ct);
        Enqueue(copy.Id, 1);
        return copy;
    }

    /// <summary>
    /// Start-up: pending deliveries whose next attempt was due more than <paramref name="olderThan"/> ago get it enqueued:
    /// rows written but never handed to Hangfire (the process stopped between the two), and attempts claimed by a process
    /// that died mid-send. One Hangfire still holds is harmless: the attempt is claimed, so it is sent once.
    /// </summary>
    public async Task<int> DispatchLeftoversAsync(TimeSpan olderThan, CancellationToken ct = default)
    {
        var before = time.GetUtcNow().UtcDateTime - olderThan;
        List<(Guid Id, int Attempts)> due;
        await using (var scope = scopes.CreateAsyncScope())
            due = (await scope.ServiceProvider.GetRequiredService<VisionLabelDb>().WebhookDeliveries
                .Where(d => d.Status == WebhookDeliveryStatus.Pending && d.NextAttemptAt < before).Select(d => new { d.Id, d.Attempts }).ToListAsync(ct))
                .Select(d => (d.Id, d.Attempts)).ToList();
        foreach (var (id, attempts) in due) Enqueue(id, attempts + 1);
        if (due.Count > 0) log.LogInformation("Enqueued {Count} webhook deliveries whose attempt was left undone by the last stop", due.Count);
        return due.Count;
    }

    /// <summary>Attempt <paramref name="attempt"/> of a delivery, now or after <paramref name="delay"/>.</summary>
    public void Enqueue(Guid deliveryId, int attempt, TimeSpan? delay = null)
    {
        if (delay is { } wait && wait > TimeSpan.Zero)
        {
            // Hangfire keeps due times in whole seconds, rounded down: round up instead, so no retry comes early.
            long due = (time.GetUtcNow() + wait).ToUnixTimeMilliseconds();
            var at = DateTimeOffset.FromUnixTimeSeconds((due + 999) / 1000);
            hangfire.Schedule<WebhookSender>(Queue, s => s.DeliverAsync(deliveryId, attempt, CancellationToken.None), at);
        }
        else
            hangfire.Enqueue<WebhookSender>(Queue, s => s.DeliverAsync(deliveryId, attempt, CancellationToken.None));
    }
}
