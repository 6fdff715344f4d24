using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Webhooks;

/// <summary>
/// The Hangfire job that makes one attempt of a delivery: signs the stored body with the hook's secret, POSTs it,
/// logs the attempt (status code or error, duration) and, when it failed, schedules the next attempt after the next of
/// RetryDelays, or marks the delivery failed after the last. Failures of the receiver are recorded, never thrown. Each
/// attempt is claimed before it is sent, so it is sent once even when Hangfire runs its job twice.
/// </summary>
public sealed class WebhookSender(VisionLabelDb db, IHttpClientFactory clients, IDataProtectionProvider protection, Webhooks webhooks,
    IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookSender> log)
{
    public const int MaxErrorLength = 500;
    public const string SignatureHeader = "X-VisionLabel-Signature";
    public const string EventHeader = "X-VisionLabel-Event";
    public const string DeliveryHeader = "X-VisionLabel-Delivery";

    /// <summary>The protector of hook secrets (one purpose string, versioned so a change of scheme can tell old rows).</summary>
    public static IDataProtector Protector(IDataProtectionProvider provider) => provider.CreateProtector("VisionLabel.Webhooks.Secret.v1");

    /// <summary>"sha256=" and the lowercase hex HMAC-SHA256 of the body, keyed by the secret's UTF-8 bytes.</summary>
    public static string Sign(string secret, byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    [DisplayName("Webhook delivery {0}, attempt {1}")]
    public async Task DeliverAsync(Guid deliveryId, int attempt, CancellationToken stopping)
    {
        // Claims the attempt in one conditional UPDATE: Hangfire may hand the same job to two workers at once (and the
        // SQLite storage does), and only one of them may send. Nothing claimed: gone with its hook, already over, or
        // this attempt is someone else's.
        int claimed = await db.WebhookDeliveries
            .Where(d => d.Id == deliveryId && d.Status == WebhookDeliveryStatus.Pending && d.Attempts == attempt - 1)
            .ExecuteUpdateAsync(u => u.SetProperty(d => d.Attempts, attempt), stopping);
        if (claimed == 0) return;
        try { await AttemptAsync(deliveryId, attempt, stopping); }
        catch (Exception e) when (e is not OperationCanceledException || stopping.IsCancellationRequested)
        {
            // Whatever stopped the attempt (shutting down, a busy database on the write below), give the claim back, so
            // the run Hangfire retries (or the sweep's dispatch) can make it: a claimed attempt nobody finishes is an event lost.
            await db.WebhookDeliveries.Where(d => d.Id == deliveryId && d.Attempts == attempt && d.Status == WebhookDeliveryStatus.Pending)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.Attempts, attempt - 1), CancellationToken.None);
            throw;
        }
    }

    private async Task AttemptAsync(Guid deliveryId, int attempt, CancellationToken stopping)
    {
        var delivery = await db.WebhookDeliveries.FirstOrDefaultAsync(d => d.Id == deliveryId, stopping);
        if (delivery is null) return; // deleted with its hook meanwhile
        var hook = await db.Webhooks.AsNoTracking().FirstOrDefaultAsync(h => h.Id == delivery.WebhookId, stopping);
        if (hook is null) return;

        var started = time.GetUtcNow().UtcDateTime;
        var clock = Stopwatch.StartNew();
        (int? status, string? error) = (null, null);
        (status, error) = await SendAsync(hook, delivery, stopping); // shutting down mid-send: the claim goes back (above)
        int ms = (int)clock.ElapsedMilliseconds;
        bool ok = status is >= 200 and < 300;
        error ??= ok ? null : $"the receiver answered {status}";

        db.WebhookAttempts.Add(new WebhookAttempt { DeliveryId = deliveryId, Number = attempt, At = started, StatusCode = status, Error = Cut(error), DurationMs = ms });
        var delays = options.Value.Schedule;
        TimeSpan? retryIn = !ok && attempt <= delays.Length ? delays[attempt - 1] : null;
        delivery.LastAttemptAt = started;
        delivery.LastStatusCode = status;
        delivery.LastError = Cut(error);
        delivery.Status = ok ? WebhookDeliveryStatus.Succeeded : retryIn is null ? WebhookDeliveryStatus.Failed : WebhookDeliveryStatus.Pending;
        delivery.NextAttemptAt = retryIn is { } wait ? time.GetUtcNow().UtcDateTime + wait : null;
        await db.SaveChangesAsync(CancellationToken.None); // the attempt happened: record it even when shutting down
        if (retryIn is { } delay) webhooks.Enqueue(deliveryId, attempt + 1, delay);
        if (!ok) log.LogInformation("Webhook {WebhookId} delivery {DeliveryId} attempt {Attempt} failed: {Error}{Next}", hook.Id, deliveryId, attempt, error,
            retryIn is null ? "; giving up" : $"; next attempt in {retryIn}");
    }

    /// <summary>One POST: the receiver's status code, or null and why there was none.</summary>
    private async Task<(int? Status, string? Error)> SendAsync(Webhook hook, WebhookDelivery delivery, CancellationToken stopping)
    {
        string secret;
        try { secret = Protector(protection).Unprotect(hook.ProtectedSecret); }
        catch (CryptographicException) { return (null, "the hook's secret cannot be read (the data protection keys changed); delete the hook and make it again"); }

        byte[] body = Encoding.UTF8.GetBytes(delivery.Payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(SignatureHeader, Sign(secret, body));
        request.Headers.Add(EventHeader, delivery.Event);
        request.Headers.Add(DeliveryHeader, delivery.Id.ToString());
        try
        {
            using var response = await clients.CreateClient(WebhooksSetup.ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stopping);
            return ((int)response.StatusCode, null); // the body is not read: a receiver has nothing to tell us but its status
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested) { throw; } // shutting down: Hangfire runs this attempt again
        catch (OperationCanceledException) { return (null, $"timed out after {options.Value.Timeout.TotalSeconds:0.#} s"); }
        catch (HttpRequestException e) { return (null, Describe(e)); }
    }

    private static string Describe(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            if (inner is WebhookTargetRefusedException refused) return refused.Message;
        return e.InnerException is { } cause ? $"{e.Message} ({cause.Message})" : e.Message;
    }

    private static string? Cut(string? text) => text is null || text.Length <= MaxErrorLength ? text : text[..(MaxErrorLength - 1)] + "…";
}
