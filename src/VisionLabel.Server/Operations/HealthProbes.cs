using System.Text.Json;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Operations;

/// <summary>
/// Health probes for orchestrators and load balancers (docs/operations.md): <c>/health/live</c> answers while the process
/// serves requests (no dependency checked: a restart would not fix a database outage); <c>/health/ready</c> checks what
/// a request needs — the database, the blob store, Redis when configured, the job storage — each with a time limit,
/// and answers 503 while any is down, so a load balancer sends no traffic here. Both anonymous, and they name each
/// check and its state only: no host names, no error text.
/// </summary>
public static class HealthProbes
{
    public const string Ready = "ready";
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddHealthProbes(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddDbContextCheck<VisionLabelDb>("database", HealthStatus.Unhealthy, [Ready],
                async (db, ct) => await db.Database.CanConnectAsync(ct))
            .AddCheck<BlobStoreCheck>("storage", HealthStatus.Unhealthy, [Ready], CheckTimeout)
            .AddCheck<RedisCheck>("redis", HealthStatus.Unhealthy, [Ready], CheckTimeout)
            .AddCheck<JobStorageCheck>("jobs", HealthStatus.Unhealthy, [Ready], CheckTimeout);
        return services;
    }

    public static IEndpointRouteBuilder MapHealthProbes(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithTags("Health").AllowAnonymousAccess().WithDisplayName("Liveness probe");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteAsync })
            .WithTags("Health").AllowAnonymousAccess().WithDisplayName("Readiness probe");
        return app;
    }

    /// <summary>{"status": "healthy", "checks": {"database": {"status": "healthy", "ms": 2}, …}}; 503 when unhealthy.</summary>
    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var body = new
        {
            status = Name(report.Status),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = Name(e.Value.Status), description = e.Value.Description, ms = Math.Round(e.Value.Duration.TotalMilliseconds) }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
    }

    private static string Name(HealthStatus status) => status.ToString().ToLowerInvariant();
}

/// <summary>The blob store takes requests: the S3 bucket answers, or the local folder takes a write.</summary>
public sealed class BlobStoreCheck(IBlobStore blobs) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) => blobs switch
    {
        S3BlobStore s3 => await s3.ReachableAsync(ct) ? HealthCheckResult.Healthy("S3 bucket reachable") : HealthCheckResult.Unhealthy("the S3 server or its bucket does not answer"),
        LocalFolderBlobStore local => local.Writable() ? HealthCheckResult.Healthy("local folder writable") : HealthCheckResult.Unhealthy("the local storage folder cannot be written"),
        _ => HealthCheckResult.Healthy(),
    };
}

/// <summary>Redis answers a PING, when the processes share one (VisionLabel:Redis); without Redis there is nothing to check.</summary>
public sealed class RedisCheck(IServiceProvider services) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        if (services.GetService<IConnectionMultiplexer>() is not { } redis) return HealthCheckResult.Healthy("not configured");
        try
        {
            await redis.GetDatabase().PingAsync().WaitAsync(ct);
            return HealthCheckResult.Healthy("answers");
        }
        catch (Exception e) when (e is RedisException or TimeoutException or OperationCanceledException) { return HealthCheckResult.Unhealthy("Redis does not answer"); }
    }
}

/// <summary>Hangfire's storage answers (its statistics query: the database tables jobs are queued in).</summary>
public sealed class JobStorageCheck(JobStorage storage) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            // Hangfire's storage API is synchronous: off the request thread, abandoned at the time limit.
            await Task.Run(() => storage.GetMonitoringApi().GetStatistics(), ct).WaitAsync(ct);
            return HealthCheckResult.Healthy("answers");
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested) { return HealthCheckResult.Unhealthy("the job storage does not answer"); }
    }
}
