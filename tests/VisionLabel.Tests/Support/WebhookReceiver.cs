using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace VisionLabel.Tests.Support;

/// <summary>One request a receiver got: the raw body bytes (what the signature covers) and the headers.</summary>
public sealed record ReceivedHook(byte[] Body, IReadOnlyDictionary<string, string> Headers, DateTime At)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : "";
    public System.Text.Json.JsonElement Json => System.Text.Json.JsonDocument.Parse(Body).RootElement;
}

/// <summary>A real webhook receiver: Kestrel on 127.0.0.1 and a free port, answering POST /hook with <see cref="Status"/>.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    public ConcurrentQueue<ReceivedHook> Received { get; } = new();
    /// <summary>The status code the next request gets (the test may change it).</summary>
    public int Status { get; set; } = 200;
    public string Url { get; private set; } = "";
    public int Port => new Uri(Url).Port;

    private WebhookReceiver(string host)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://{host}:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/hook", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            Received.Enqueue(new ReceivedHook(body.ToArray(), headers, DateTime.UtcNow));
            return Results.StatusCode(Status);
        });
    }

    public static async Task<WebhookReceiver> StartAsync(int status = 200, string host = "127.0.0.1")
    {
        var receiver = new WebhookReceiver(host) { Status = status };
        await receiver._app.StartAsync();
        receiver.Url = receiver._app.Urls.First().TrimEnd('/') + "/hook";
        return receiver;
    }

    /// <summary>Waits until the receiver got requests matching <paramref name="match"/> (at least <paramref name="count"/>).</summary>
    public async Task<List<ReceivedHook>> WaitForAsync(Func<ReceivedHook, bool> match, int count = 1, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var got = Received.Where(match).ToList();
            if (got.Count >= count) return got;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the receiver got {got.Count} of {count} matching requests in {seconds} s ({Received.Count} in all)");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
