using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Webhooks;

/// <summary>
/// A project's webhook: where to POST which events. The secret that signs each body is kept only in its protected
/// form (Data Protection, the keys every process shares), so a copy of the database does not let anyone forge
/// deliveries; its owner saw it once, when the hook was made.
/// </summary>
public sealed class Webhook
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProjectId { get; set; }
    public required string Url { get; set; }
    public List<string> Events { get; set; } = [];
    public required string ProtectedSecret { get; set; }
    public required string CreatedBy { get; set; }
    public DateTime CreatedAt { get; set; }
}

public enum WebhookDeliveryStatus { Pending, Succeeded, Failed }

/// <summary>
/// One event for one hook (the outbox row): the exact body that is signed and sent, written before any attempt so
/// an event survives a restart between the action and its delivery. A redelivery is a new row with the same event id
/// and body.
/// </summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid WebhookId { get; set; }
    public Guid ProjectId { get; set; }
    /// <summary>The payload's "id": the same for every hook that got the event and for redeliveries, so receivers can de-duplicate.</summary>
    public Guid EventId { get; set; }
    public required string Event { get; set; }
    public required string Payload { get; set; }
    public DateTime CreatedAt { get; set; }
    public WebhookDeliveryStatus Status { get; set; }
    public int Attempts { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public DateTime? LastAttemptAt { get; set; }
    public DateTime? NextAttemptAt { get; set; }
    public Guid? RedeliveryOf { get; set; }
}

/// <summary>One try of a delivery: the receiver's status code, or why there was none.</summary>
public sealed class WebhookAttempt
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid DeliveryId { get; set; }
    public int Number { get; set; }
    public DateTime At { get; set; }
    public int? StatusCode { get; set; }
    public string? Error { get; set; }
    public int DurationMs { get; set; }
}

/// <summary>The tables' shape, called from VisionLabelDb.OnModelCreating (kept here so that file does not grow).</summary>
public static class WebhookModel
{
    public static void Configure(ModelBuilder model)
    {
        model.Entity<Webhook>(e =>
        {
            e.Property(h => h.Url).HasMaxLength(WebhooksApi.MaxUrlLength);
            e.Property(h => h.CreatedBy).HasMaxLength(200);
            e.HasOne<Project>().WithMany().HasForeignKey(h => h.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(h => h.ProjectId);
        });
        model.Entity<WebhookDelivery>(e =>
        {
            e.Property(d => d.Event).HasMaxLength(32);
            e.Property(d => d.Status).HasConversion<string>().HasMaxLength(16);
            e.Property(d => d.LastError).HasMaxLength(WebhookSender.MaxErrorLength);
            e.HasOne<Webhook>().WithMany().HasForeignKey(d => d.WebhookId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(d => new { d.WebhookId, d.Id }); // a hook's log, newest first (ids are v7)
        });
        model.Entity<WebhookAttempt>(e =>
        {
            e.Property(a => a.Error).HasMaxLength(WebhookSender.MaxErrorLength);
            e.HasOne<WebhookDelivery>().WithMany().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(a => a.DeliveryId);
        });
    }
}
