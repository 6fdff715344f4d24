using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;

namespace VisionLabel.Server.Operations;

/// <summary>Telemetry settings (VisionLabel:Telemetry; docs/operations.md).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "VisionLabel:Telemetry";
    /// <summary>OpenTelemetry on (default). Off: no instrumentation listens and /metrics answers 404 (the overhead
    /// benchmark's baseline; docs/benchmarks.md).</summary>
    public bool Enabled { get; set; } = true;
    /// <summary>An OTLP collector (e.g. http://otel-collector:4317); when set, traces and metrics are pushed there too.
    /// The standard OTEL_EXPORTER_OTLP_* variables refine it (protocol, headers).</summary>
    public string? OtlpEndpoint { get; set; }
    /// <summary>Console logs as one JSON object a line (for log shippers) instead of text.</summary>
    public bool JsonLogs { get; set; }
}

public static class OperationsSetup
{
    /// <summary>
    /// OpenTelemetry (ASP.NET Core, HTTP client and runtime instrumentation, our meters; Prometheus on /metrics; OTLP
    /// when configured), the health probes, and the log format.
    /// </summary>
    public static WebApplicationBuilder AddOperations(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<TelemetryOptions>(builder.Configuration, TelemetryOptions.Section, o =>
            o.OtlpEndpoint is { Length: > 0 } url && !(Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https")
                ? [("OtlpEndpoint", $"'{url}' is not an http(s) URL of an OTLP collector (e.g. http://otel-collector:4317)")]
                : []);
        var telemetry = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new();
        if (telemetry.JsonLogs)
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(o => { o.UseUtcTimestamp = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; });
        }
        services.AddSingleton<ServerMetrics>();
        services.AddSingleton<WorkGauges>();
        services.AddHealthProbes();
        if (!telemetry.Enabled) return builder;
        bool otlp = telemetry.OtlpEndpoint is { Length: > 0 } && Uri.TryCreate(telemetry.OtlpEndpoint, UriKind.Absolute, out _);
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("visionlabel", serviceInstanceId: $"{Environment.MachineName}:{Environment.ProcessId}"))
            .WithMetrics(m =>
            {
                m.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddRuntimeInstrumentation().AddMeter(ServerMetrics.MeterName);
                // No cached scrape: a scrape shows the figures of that moment (Prometheus scrapes every 15 s or so anyway).
                m.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                if (otlp) m.AddOtlpExporter(o => o.Endpoint = new Uri(telemetry.OtlpEndpoint!));
            });
        // Traces only go somewhere when a collector is set: sampling them for nobody would cost every request.
        if (otlp)
            otel.WithTracing(t => t.AddAspNetCoreInstrumentation(o => o.Filter = c => !c.Request.Path.StartsWithSegments("/health") && !c.Request.Path.StartsWithSegments("/metrics"))
                .AddHttpClientInstrumentation().AddOtlpExporter(o => o.Endpoint = new Uri(telemetry.OtlpEndpoint!)));
        return builder;
    }

    /// <summary>/metrics (Prometheus text format: admins, or a token with the metrics scope) and the health probes.</summary>
    public static WebApplication MapOperations(this WebApplication app)
    {
        _ = app.Services.GetRequiredService<WorkGauges>(); // its gauges exist from the start
        var metrics = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<TelemetryOptions>>().Value.Enabled
            ? app.MapPrometheusScrapingEndpoint("/metrics")
            : app.Map("/metrics", () => TypedResults.Problem(statusCode: 404, title: "Metrics are off", detail: "This server runs with VisionLabel:Telemetry:Enabled=false."));
        metrics.WithMetadata(new AccessRule(AccessLevel.Metrics)).WithTags("Operations").WithDisplayName("Prometheus metrics");
        app.MapHealthProbes();
        return app;
    }
}
