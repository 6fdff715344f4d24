using Microsoft.Extensions.Options;
using VisionLabel.Server.Common;

namespace VisionLabel.Server.Webhooks;

/// <summary>Section "VisionLabel:Webhooks".</summary>
public sealed class WebhookOptions
{
    public const string Section = "VisionLabel:Webhooks";

    /// <summary>
    /// Host names or IP addresses that hooks may reach although they are loopback, private or link-local (an internal
    /// CI server, say). Nothing else of that kind is reached: see WebhookTargets.
    /// </summary>
    public string[] AllowedHosts { get; set; } = [];

    /// <summary>How long one attempt may take, connecting included. Receivers should answer at once and work later.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The waits before each retry of a failed attempt (the first attempt is at once): one retry per entry. Null keeps
    /// the default. (An array, not a list with defaults, because configuration binding appends to what is there.)
    /// </summary>
    public TimeSpan[]? RetryDelays { get; set; }

    public static readonly TimeSpan[] DefaultRetryDelays =
        [TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2)];

    public TimeSpan[] Schedule => RetryDelays is { Length: > 0 } delays ? delays : DefaultRetryDelays;

    /// <summary>Hooks per project.</summary>
    public int MaxPerProject { get; set; } = 20;
}

public static class WebhooksSetup
{
    public const string ClientName = "webhooks";

    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<WebhookOptions>(configuration, WebhookOptions.Section, Rules);
        services.AddSingleton(sp => new WebhookTargets(sp.GetRequiredService<IOptions<WebhookOptions>>()));
        services.AddSingleton<Webhooks>();
        services.AddTransient<WebhookSender>();
        // Its own handler: no proxy (the connect callback must see the receiver, not a proxy), no redirects (a 302 to
        // an internal address would walk around the checks), no cookies, and every connection made by WebhookTargets,
        // which checks the address it actually connects to. Pooled connections are dropped after a minute so a
        // changed DNS answer is checked again.
        services.AddHttpClient(ClientName, (sp, client) =>
            {
                client.Timeout = sp.GetRequiredService<IOptions<WebhookOptions>>().Value.Timeout;
                client.DefaultRequestHeaders.UserAgent.ParseAdd("VisionLabel-Webhooks");
            })
            .ConfigurePrimaryHttpMessageHandler(sp =>
            {
                var targets = sp.GetRequiredService<WebhookTargets>();
                return new SocketsHttpHandler
                {
                    AllowAutoRedirect = false, UseProxy = false, UseCookies = false,
                    ConnectTimeout = sp.GetRequiredService<IOptions<WebhookOptions>>().Value.Timeout,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(1),
                    ConnectCallback = (context, ct) => targets.ConnectAsync(context.DnsEndPoint, ct),
                };
            })
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan); // one handler: PooledConnectionLifetime already recycles connections
        return services;
    }

    private static IEnumerable<(string, string)> Rules(WebhookOptions o)
    {
        if (o.Timeout < TimeSpan.FromMilliseconds(100) || o.Timeout > TimeSpan.FromMinutes(2))
            yield return ("Timeout", $"must be between 00:00:00.100 and 00:02:00, not {o.Timeout}");
        var delays = o.RetryDelays ?? [];
        if (delays.Length > 20) yield return ("RetryDelays", $"may list at most 20 retries, not {delays.Length}");
        for (int i = 0; i < delays.Length; i++)
            if (delays[i] < TimeSpan.Zero || delays[i] > TimeSpan.FromDays(1))
                yield return ($"RetryDelays:{i}", $"must be between 00:00:00 and 1.00:00:00, not {delays[i]}");
        for (int i = 0; i < o.AllowedHosts.Length; i++)
            if (string.IsNullOrWhiteSpace(o.AllowedHosts[i]) || o.AllowedHosts[i].Contains('/') || o.AllowedHosts[i].Contains(':') && !System.Net.IPAddress.TryParse(o.AllowedHosts[i], out _))
                yield return ($"AllowedHosts:{i}", $"must be a host name or an IP address (no scheme, port or path), not '{o.AllowedHosts[i]}'");
        foreach (var problem in ValidatedOptions.AtLeast("MaxPerProject", o.MaxPerProject, 1)) yield return problem;
    }
}
