using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.HttpOverrides;
using StackExchange.Redis;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Scaleout;

/// <summary>Section "VisionLabel:Redis": set Configuration to run several server processes behind a load balancer.</summary>
public sealed class RedisOptions
{
    public const string Section = "VisionLabel:Redis";

    /// <summary>StackExchange.Redis configuration, e.g. "redis:6379" or "redis:6379,password=…,ssl=true".</summary>
    public string? Configuration { get; set; }
    /// <summary>Prefix of every channel and key, so several deployments (or test runs) can share one Redis.</summary>
    public string ChannelPrefix { get; set; } = "visionlabel";
}

/// <summary>Section "VisionLabel:Proxy": the load balancer or TLS proxy in front of the servers.</summary>
public sealed class ProxyOptions
{
    public const string Section = "VisionLabel:Proxy";

    /// <summary>Networks whose X-Forwarded-For/-Proto are believed (CIDR, e.g. "10.0.0.0/8"); loopback always is.</summary>
    public List<string> KnownNetworks { get; set; } = [];
}

/// <summary>
/// What several processes must share: SignalR messages (Redis backplane), who is on which image (Redis), the
/// data-protection keys that sign cookies and antiforgery tokens (the database, so a cookie from one process is good
/// on every other and after restarts), and the client's address and scheme as the proxy saw them.
/// </summary>
public static class ScaleoutSetup
{
    public static IServiceCollection AddScaleout(this IServiceCollection services, IConfiguration configuration, ISignalRServerBuilder signalR)
    {
        services.AddDataProtection().SetApplicationName("VisionLabel").PersistKeysToDbContext<VisionLabelDb>();

        var proxy = configuration.GetSection(ProxyOptions.Section).Get<ProxyOptions>() ?? new ProxyOptions();
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            foreach (var network in proxy.KnownNetworks) o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        });

        var redis = configuration.GetSection(RedisOptions.Section).Get<RedisOptions>() ?? new RedisOptions();
        services.AddSingleton(redis);
        if (string.IsNullOrWhiteSpace(redis.Configuration))
        {
            services.AddSingleton<IParticipantDirectory, LocalParticipants>();
            return services;
        }
        var connection = ConfigurationOptions.Parse(redis.Configuration);
        connection.AbortOnConnectFail = false; // start while Redis is still coming up; reconnect when it is back
        services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(connection));
        signalR.AddStackExchangeRedis(o =>
        {
            o.Configuration = connection;
            o.Configuration.ChannelPrefix = RedisChannel.Literal(redis.ChannelPrefix);
        });
        services.AddSingleton<ProcessIdentity>();
        services.AddSingleton<IParticipantDirectory, RedisParticipants>();
        services.AddHostedService<ProcessHeartbeat>();
        services.AddSingleton<RedisCloseRelay>();
        services.AddSingleton<Accounts.IConnectionCloseRelay>(sp => sp.GetRequiredService<RedisCloseRelay>());
        services.AddHostedService(sp => sp.GetRequiredService<RedisCloseRelay>());
        return services;
    }

    /// <summary>
    /// At start-up, before serving. Data protection makes its first key lazily, in each process: several processes
    /// started at the same moment on an empty database would each make one, and a cookie or setup link sealed by one
    /// could be refused by another until its key ring reloads. On PostgreSQL the first key is made here, under an
    /// advisory lock, by whichever process comes first; the others find it.
    /// </summary>
    public static async Task EnsureSharedKeyAsync(this IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        if (!Microsoft.EntityFrameworkCore.NpgsqlDatabaseFacadeExtensions.IsNpgsql(db.Database)) return; // one process on SQLite
        var keys = services.GetRequiredService<Microsoft.AspNetCore.DataProtection.KeyManagement.IKeyManager>();
        await using var tx = await db.Database.BeginTransactionAsync();
        await AdvisoryLocks.ForTransactionAsync(db, AdvisoryLocks.FirstDataProtectionKey);
        var now = DateTimeOffset.UtcNow;
        // Only when there is no usable key at all: rolling over to the next key stays data protection's own business
        // (it prepares the next key days ahead, which every process then finds).
        if (!keys.GetAllKeys().Any(k => !k.IsRevoked && k.ActivationDate <= now && k.ExpirationDate > now))
            keys.CreateNewKey(now, now.AddDays(90)); // the lifetime data protection gives its own keys
        await tx.CommitAsync();
    }
}
