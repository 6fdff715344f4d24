using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace VisionLabel.Tests.Support;

/// <summary>
/// A hub connection through the .NET SignalR client (Microsoft.AspNetCore.SignalR.Client) over WebSockets to the test
/// server. Collects every server invocation the server's hubs send, with its arguments as JSON, so tests can wait for
/// them (an event, not a poll). <see cref="RawHubClient"/> speaks the wire format by hand instead.
/// </summary>
public sealed class HubClient : IAsyncDisposable
{
    /// <summary>What the hubs send, with their argument counts (the client must know both to receive them).</summary>
    private static readonly (string Method, int Arity)[] ServerMethods =
    [
        ("Applied", 1), ("Rejected", 2) /* no longer sent: checked absent */, ("PresenceChanged", 1), ("ParticipantJoined", 2), ("ParticipantLeft", 2),
        ("CommentAdded", 1), ("CommentChanged", 1), ("ImageStatusChanged", 1), ("ImageDeleted", 1), ("WorkChanged", 1), ("Notification", 1), ("QualityScored", 1),
        ("JobProgress", 1), ("ProposalsAdded", 1) /* no longer sent: checked absent */, ("ImportProgress", 2),
    ];

    private readonly HubConnection _connection;

    private readonly HubMessages _messages = new();
    public ConcurrentQueue<(string Target, JsonElement[] Arguments)> Received => _messages.Received;

    /// <summary>Called for each server invocation, in arrival order.</summary>
    public Action<string, JsonElement[]>? OnMessage { get; set; }

    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the connection closes (the server closed it, or it failed); no automatic reconnect.</summary>
    public Task Closed => _closed.Task;

    private HubClient(HubConnection connection)
    {
        _connection = connection;
        _connection.Closed += _ => { _closed.TrySetResult(); return Task.CompletedTask; };
        foreach (var (method, arity) in ServerMethods)
            _connection.On(method, Enumerable.Repeat(typeof(JsonElement), arity).ToArray(), args =>
            {
                var json = args.Select(a => ((JsonElement)a!).Clone()).ToArray();
                Arrived(method, json);
                OnMessage?.Invoke(method, json);
                return Task.CompletedTask;
            });
    }

    public static Task<HubClient> ConnectAsync(TestServer server, string path) =>
        StartAsync(new HubConnectionBuilder().WithUrl(new Uri(server.BaseAddress, path.TrimStart('/')), o =>
        {
            o.Transports = HttpTransportType.WebSockets;
            o.SkipNegotiation = true;
            o.WebSocketFactory = async (context, ct) => await server.CreateWebSocketClient().ConnectAsync(context.Uri, ct);
        }));

    /// <summary>A WebSocket connection to a real server (its own process, perhaps behind nginx), signed in with a token.</summary>
    public static Task<HubClient> ConnectAsync(string url, string path, string token) =>
        StartAsync(new HubConnectionBuilder().WithUrl($"{url.TrimEnd('/')}{path}?access_token={Uri.EscapeDataString(token)}", o =>
        {
            o.Transports = HttpTransportType.WebSockets;
            o.SkipNegotiation = true;
        }));

    /// <summary>The JSON protocol with the server's conventions (camelCase, kebab-case enum names), then connected.</summary>
    private static async Task<HubClient> StartAsync(IHubConnectionBuilder builder)
    {
        var connection = builder.AddJsonProtocol(o =>
            {
                o.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
                o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower));
            })
            .Build();
        var client = new HubClient(connection);
        await connection.StartAsync();
        return client;
    }

    public async Task InvokeAsync(string method, params object?[] args) => await CallAsync(method, args);

    /// <summary>Invokes a hub method and returns its result. A hub error becomes an InvalidOperationException with the server's message.</summary>
    public async Task<JsonElement> CallAsync(string method, params object?[] args)
    {
        try { return await _connection.InvokeCoreAsync<JsonElement>(method, args).WaitAsync(TimeSpan.FromSeconds(30)); }
        catch (HubException e) { throw new InvalidOperationException(e.Message, e); }
    }

    /// <summary>Invokes a hub method that must fail; its error message.</summary>
    public async Task<string> CallError(string method, params object?[] args) =>
        (await Assert.ThrowsAsync<InvalidOperationException>(() => CallAsync(method, args))).Message;

    public bool IsOpen => _connection.State == HubConnectionState.Connected;

    public Task<JsonElement[]> WaitFor(string target, TimeSpan timeout, Func<JsonElement[], bool>? match = null) => _messages.WaitFor(target, timeout, match);

    private void Arrived(string target, JsonElement[] args) => _messages.Arrived(target, args);

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
