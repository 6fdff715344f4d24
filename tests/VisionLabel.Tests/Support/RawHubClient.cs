using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.TestHost;

namespace VisionLabel.Tests.Support;

/// <summary>
/// A SignalR client speaking the JSON hub protocol over a raw WebSocket (records end with 0x1e), as any
/// non-.NET client would. Collects every invocation the server sends.
/// </summary>
public sealed class RawHubClient : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';
    private readonly WebSocket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiver;
    private int _invocationId;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _calls = new();

    private readonly HubMessages _messages = new();
    public ConcurrentQueue<(string Target, JsonElement[] Arguments)> Received => _messages.Received;

    /// <summary>Called on the receive loop for each server invocation, in arrival order.</summary>
    public Action<string, JsonElement[]>? OnMessage { get; set; }

    private RawHubClient(WebSocket socket)
    {
        _socket = socket;
        _receiver = Task.Run(ReceiveLoop);
    }

    public static async Task<RawHubClient> ConnectAsync(TestServer server, string path)
    {
        var socket = await server.CreateWebSocketClient().ConnectAsync(new Uri(server.BaseAddress, path.TrimStart('/')), CancellationToken.None);
        await SendText(socket, "{\"protocol\":\"json\",\"version\":1}" + RecordSeparator);
        var client = new RawHubClient(socket);
        await client.WaitFor("__handshake", TimeSpan.FromSeconds(10));
        return client;
    }

    private readonly SemaphoreSlim _sendLock = new(1, 1);

    public async Task InvokeAsync(string method, params object[] args) => await CallAsync(method, args);

    /// <summary>Invokes a hub method and returns its result (the completion message's "result").</summary>
    public async Task<JsonElement> CallAsync(string method, params object[] args)
    {
        string id = Interlocked.Increment(ref _invocationId).ToString();
        var completion = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _calls[id] = completion;
        string message = JsonSerializer.Serialize(new { type = 1, invocationId = id, target = method, arguments = args }, VisionLabelApp.Json) + RecordSeparator;
        await _sendLock.WaitAsync();
        try { await SendText(_socket, message); }
        finally { _sendLock.Release(); }
        return await completion.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public bool IsOpen => _socket.State == WebSocketState.Open;


    public Task<JsonElement[]> WaitFor(string target, TimeSpan timeout, Func<JsonElement[], bool>? match = null) => _messages.WaitFor(target, timeout, match);

    private void Arrived(string target, JsonElement[] args) => _messages.Arrived(target, args);

    private static Task SendText(WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    private async Task ReceiveLoop()
    {
        var buffer = new byte[1 << 16];
        var pending = new StringBuilder();
        try
        {
            while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close) break;
                pending.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
                string text = pending.ToString();
                int end;
                while ((end = text.IndexOf(RecordSeparator)) >= 0)
                {
                    Handle(text[..end]);
                    text = text[(end + 1)..];
                }
                pending.Clear().Append(text);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException) { } // closed: the loop just ends
        catch (Exception e)
        {
            // A message handler failed (e.g. a test's assertion): fail the calls waiting on this connection with
            // it, instead of letting them time out with no reason given.
            foreach (var call in _calls.Values) call.TrySetException(e);
            throw;
        }
    }

    private void Handle(string record)
    {
        using var doc = JsonDocument.Parse(record);
        var root = doc.RootElement;
        if (!root.TryGetProperty("type", out var type)) { Arrived("__handshake", []); return; }
        if (type.GetInt32() == 1)
        {
            var args = root.GetProperty("arguments").EnumerateArray().Select(a => a.Clone()).ToArray();
            Arrived(root.GetProperty("target").GetString()!, args);
            OnMessage?.Invoke(root.GetProperty("target").GetString()!, args);
        }
        else if (type.GetInt32() == 3 && _calls.TryRemove(root.GetProperty("invocationId").GetString()!, out var call))
        {
            if (root.TryGetProperty("error", out var error)) call.TrySetException(new InvalidOperationException(error.GetString()));
            else call.TrySetResult(root.TryGetProperty("result", out var result) ? result.Clone() : default);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None); } catch (Exception) { }
        await _receiver;
        _socket.Dispose();
    }
}
