using System.Text.Json;
using StackExchange.Redis;
using VisionLabel.Server.Annotations;

namespace VisionLabel.Server.Scaleout;

/// <summary>
/// Several processes: a Redis hash per image (connection id → participant and the process holding it). A process that
/// dies without saying goodbye (kill -9) stops refreshing its liveness key; its entries are left out of lists from
/// then on, and removed by whoever lists them. (A project delete no longer needs the set of open images this kept:
/// it deletes every image through the write path, which tells whoever is on it.)
/// </summary>
public sealed class RedisParticipants(IConnectionMultiplexer redis, ProcessIdentity process, RedisOptions options) : IParticipantDirectory
{
    private sealed record Entry(string Process, Participant Participant);

    private RedisKey Image(Guid imageId) => $"{options.ChannelPrefix}:presence:{imageId:N}";

    public Task JoinedAsync(Guid imageId, Participant participant) =>
        redis.GetDatabase().HashSetAsync(Image(imageId), participant.ConnectionId, JsonSerializer.Serialize(new Entry(process.Id, participant)));

    public Task LeftAsync(Guid imageId, string connectionId) => redis.GetDatabase().HashDeleteAsync(Image(imageId), connectionId);

    public async Task<IReadOnlyList<Participant>> ListAsync(Guid imageId)
    {
        var db = redis.GetDatabase();
        var entries = (await db.HashGetAllAsync(Image(imageId)))
            .Select(e => (Field: e.Name, Entry: JsonSerializer.Deserialize<Entry>(e.Value.ToString())!)).ToList();
        var processes = entries.Select(e => e.Entry.Process).Distinct().ToList();
        var alive = new HashSet<string>();
        foreach (var p in processes)
            if (p == process.Id || await db.KeyExistsAsync(ProcessHeartbeat.Key(options, p))) alive.Add(p);
        var dead = entries.Where(e => !alive.Contains(e.Entry.Process)).Select(e => e.Field).ToArray();
        if (dead.Length > 0) await db.HashDeleteAsync(Image(imageId), dead);
        return entries.Where(e => alive.Contains(e.Entry.Process)).Select(e => e.Entry.Participant).OrderBy(p => p.Name).ToList();
    }
}

/// <summary>This server process, as other processes see it.</summary>
public sealed class ProcessIdentity
{
    public string Id { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}"; // a restarted pid is a new process
}

/// <summary>Keeps this process's liveness key in Redis (expires 30 s after the last refresh, refreshed every 10 s).</summary>
public sealed class ProcessHeartbeat(IConnectionMultiplexer redis, ProcessIdentity process, RedisOptions options, ILogger<ProcessHeartbeat> log) : BackgroundService
{
    public static RedisKey Key(RedisOptions options, string process) => $"{options.ChannelPrefix}:process:{process}";

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        do
        {
            try { await redis.GetDatabase().StringSetAsync(Key(options, process.Id), DateTime.UtcNow.ToString("O"), TimeSpan.FromSeconds(30)); }
            catch (Exception e) when (e is RedisException or TimeoutException) { log.LogWarning(e, "Redis heartbeat failed; will retry"); }
        } while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false));
    }

    public override async Task StopAsync(CancellationToken ct)
    {
        await base.StopAsync(ct);
        try { await redis.GetDatabase().KeyDeleteAsync(Key(options, process.Id)); } catch (RedisException) { } // a clean stop says so at once
    }
}

/// <summary>
/// Close requests (a removed member, a revoked token, a disabled account) on a Redis channel, so connections held by
/// other server processes close at once too; each process closes its own matching connections when one arrives.
/// </summary>
public sealed class RedisCloseRelay(IConnectionMultiplexer redis, RedisOptions options, ProcessIdentity process, IServiceProvider services,
    ILogger<RedisCloseRelay> log) : BackgroundService, Accounts.IConnectionCloseRelay
{
    private sealed record Message(string From, Accounts.CloseRequest Request);
    private RedisChannel Channel => RedisChannel.Literal($"{options.ChannelPrefix}:close");

    public Task PublishAsync(Accounts.CloseRequest request) =>
        redis.GetSubscriber().PublishAsync(Channel, JsonSerializer.Serialize(new Message(process.Id, request)));

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var connections = services.GetRequiredService<Accounts.HubConnections>(); // resolved late: it depends on this relay
        await redis.GetSubscriber().SubscribeAsync(Channel, (_, value) =>
        {
            try
            {
                var message = JsonSerializer.Deserialize<Message>(value.ToString())!;
                if (message.From != process.Id) connections.Close(message.Request);
            }
            catch (JsonException e) { log.LogWarning(e, "Ignored a malformed close request on Redis"); }
        });
    }
}
