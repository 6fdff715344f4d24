using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Webhooks;

/// <param name="Url">Where to POST: http:// or https://, not an internal address unless an admin allows it.</param>
/// <param name="Events">Which events, e.g. ["image.approved"]; GET /api/webhook-events lists them.</param>
public sealed record CreateWebhook([property: Required, MaxLength(WebhooksApi.MaxUrlLength)] string Url,
    [property: Required, MaxLength(20)] IReadOnlyList<string> Events);

/// <summary>A new hook, with its secret: shown this once, never again.</summary>
public sealed record WebhookCreated(Guid Id, string Secret, string Url, IReadOnlyList<string> Events, string CreatedBy, DateTime CreatedAt);

public sealed record WebhookDto(Guid Id, string Url, IReadOnlyList<string> Events, string CreatedBy, DateTime CreatedAt, IReadOnlyList<WebhookDeliveryDto> LastDeliveries);

/// <param name="StatusCode">The receiver's answer to the latest attempt; null when there was none (see error).</param>
public sealed record WebhookDeliveryDto(Guid Id, Guid EventId, string Event, WebhookDeliveryStatus Status, int Attempts, int? StatusCode, string? Error,
    DateTime CreatedAt, DateTime? LastAttemptAt, DateTime? NextAttemptAt, Guid? RedeliveryOf)
{
    public static WebhookDeliveryDto From(WebhookDelivery d) =>
        new(d.Id, d.EventId, d.Event, d.Status, d.Attempts, d.LastStatusCode, d.LastError, d.CreatedAt, d.LastAttemptAt, d.NextAttemptAt, d.RedeliveryOf);
}

public sealed record WebhookAttemptDto(int Attempt, DateTime At, int? StatusCode, string? Error, int DurationMs);

/// <summary>A delivery in the log: what was sent (the exact signed body) and each attempt.</summary>
public sealed record WebhookDeliveryLog(WebhookDeliveryDto Delivery, string Payload, IReadOnlyList<WebhookAttemptDto> Log);

/// <summary>A project's webhooks: owners add, list and delete them, read each one's delivery log and send a delivery again.</summary>
public static class WebhooksApi
{
    public const int MaxUrlLength = 2000;
    private const int LastDeliveries = 5;

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/webhook-events", () => TypedResults.Ok(WebhookEvents.All)).WithTags("Webhooks").RequireSignedIn()
            .WithDescription("The event names a webhook can ask for.");
        var group = app.MapGroup("/api/projects/{projectId:guid}/webhooks").WithTags("Webhooks").WithBodyLimit(Limits.SmallJsonBody);
        group.MapGet("/", List).RequireProjectRole(ProjectRole.Owner)
            .WithDescription($"The project's webhooks (never their secrets), each with its {LastDeliveries} latest deliveries.");
        group.MapPost("/", Create).RequireProjectRole(ProjectRole.Owner)
            .WithDescription("Adds a webhook: {url, events}. Answers its secret, this once: each delivery's X-VisionLabel-Signature is sha256=HMAC-SHA256(secret, body) in hex. See docs/webhooks.md.");
        group.MapDelete("/{webhookId:guid}", Delete).RequireProjectRole(ProjectRole.Owner).WithDescription("Deletes a webhook and its delivery log; deliveries not yet sent are dropped.");
        group.MapGet("/{webhookId:guid}/deliveries", Deliveries).RequireProjectRole(ProjectRole.Owner)
            .WithDescription("The hook's delivery log, newest first (?limit= up to 200): each body as sent and each attempt's status code or error.");
        group.MapPost("/{webhookId:guid}/deliveries/{deliveryId:guid}/redeliver", Redeliver).RequireProjectRole(ProjectRole.Owner)
            .WithDescription("Sends a delivery's body again, as a new delivery with the same event id (receivers de-duplicate by it).");
        return app;
    }

    private static async Task<Ok<List<WebhookDto>>> List(Guid projectId, VisionLabelDb db, CancellationToken ct)
    {
        var hooks = await db.Webhooks.AsNoTracking().Where(h => h.ProjectId == projectId).OrderBy(h => h.Id).ToListAsync(ct);
        var list = new List<WebhookDto>();
        foreach (var h in hooks)
        {
            var last = await db.WebhookDeliveries.AsNoTracking().Where(d => d.WebhookId == h.Id).OrderByDescending(d => d.Id).Take(LastDeliveries).ToListAsync(ct);
            list.Add(new WebhookDto(h.Id, h.Url, h.Events, h.CreatedBy, h.CreatedAt, last.Select(WebhookDeliveryDto.From).ToList()));
        }
        return TypedResults.Ok(list);
    }

    private static async Task<Results<Created<WebhookCreated>, ValidationProblem, ProblemHttpResult>> Create(Guid projectId, CreateWebhook request, HttpContext context,
        VisionLabelDb db, WebhookTargets targets, IDataProtectionProvider protection, IOptions<WebhookOptions> options, TimeProvider time, CancellationToken ct)
    {
        string url = request.Url.Trim();
        if (await targets.RefusalAsync(url, ct) is { } refusal) return Problems.Invalid("url", $"{url} {refusal}");
        if (request.Events.Count == 0) return Problems.Invalid("events", $"name at least one event: {string.Join(", ", WebhookEvents.All)}");
        for (int i = 0; i < request.Events.Count; i++)
            if (!WebhookEvents.IsKnown(request.Events[i]))
                return Problems.Invalid($"events[{i}]", $"'{request.Events[i]}' is not an event; the events are {string.Join(", ", WebhookEvents.All)}");
        if (await db.Webhooks.CountAsync(h => h.ProjectId == projectId, ct) >= options.Value.MaxPerProject)
            return Problems.Conflict("Too many webhooks", $"A project has at most {options.Value.MaxPerProject} webhooks; delete one first.");
        // 32 random bytes, as hex: easy to paste into a receiver's configuration.
        string secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var hook = new Webhook
        {
            ProjectId = projectId, Url = url, Events = request.Events.Distinct().ToList(), ProtectedSecret = WebhookSender.Protector(protection).Protect(secret),
            CreatedBy = context.Caller().UserName, CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        db.Webhooks.Add(hook);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/projects/{projectId}/webhooks/{hook.Id}",
            new WebhookCreated(hook.Id, secret, hook.Url, hook.Events, hook.CreatedBy, hook.CreatedAt));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(Guid projectId, Guid webhookId, VisionLabelDb db, CancellationToken ct)
    {
        int deleted = await db.Webhooks.Where(h => h.Id == webhookId && h.ProjectId == projectId).ExecuteDeleteAsync(ct);
        return deleted == 0 ? Problems.NotFound("Webhook", webhookId) : TypedResults.NoContent();
    }

    private static async Task<Results<Ok<List<WebhookDeliveryLog>>, ValidationProblem, ProblemHttpResult>> Deliveries(Guid projectId, Guid webhookId, int? limit,
        VisionLabelDb db, CancellationToken ct)
    {
        if (limit is < 1 or > 200) return Problems.Invalid("limit", $"must be between 1 and 200, not {limit}");
        if (!await db.Webhooks.AnyAsync(h => h.Id == webhookId && h.ProjectId == projectId, ct)) return Problems.NotFound("Webhook", webhookId);
        var deliveries = await db.WebhookDeliveries.AsNoTracking().Where(d => d.WebhookId == webhookId).OrderByDescending(d => d.Id).Take(limit ?? 50).ToListAsync(ct);
        var ids = deliveries.Select(d => d.Id).ToList();
        var attempts = (await db.WebhookAttempts.AsNoTracking().Where(a => ids.Contains(a.DeliveryId)).ToListAsync(ct)).ToLookup(a => a.DeliveryId);
        return TypedResults.Ok(deliveries.Select(d => new WebhookDeliveryLog(WebhookDeliveryDto.From(d), d.Payload,
            attempts[d.Id].OrderBy(a => a.Number).Select(a => new WebhookAttemptDto(a.Number, a.At, a.StatusCode, a.Error, a.DurationMs)).ToList())).ToList());
    }

    private static async Task<Results<Accepted<WebhookDeliveryDto>, ProblemHttpResult>> Redeliver(Guid projectId, Guid webhookId, Guid deliveryId,
        VisionLabelDb db, Webhooks webhooks, CancellationToken ct)
    {
        var copy = await webhooks.RedeliverAsync(db, projectId, webhookId, deliveryId, ct);
        return copy is null ? Problems.NotFound("Delivery", deliveryId)
            : TypedResults.Accepted($"/api/projects/{projectId}/webhooks/{webhookId}/deliveries", WebhookDeliveryDto.From(copy));
    }
}
