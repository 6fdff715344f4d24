using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.SignalR;

// dotnet SignalRFloor.dll --urls http://127.0.0.1:PORT
// /hubs/annotations with the methods bench/collab-load calls: JoinImage, Submit, Resume. Submit takes the image's
// next seq under a per-image gate and broadcasts Applied to the image's group, as the real sequencer does, but
// stores and checks nothing: what is left is SignalR's own cost on this machine.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSignalR().AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower)));
builder.Services.AddSingleton<Sequences>();
var app = builder.Build();
app.MapGet("/health", () => "ok");
app.MapHub<FloorHub>("/hubs/annotations");
app.Run();

public sealed record SubmitOp(string ClientOpId, Guid ImageId, string Type, Guid AnnotationId, JsonElement? Changes = null);
public sealed record AppliedOp(long Seq, string AuthorId, SubmitOp Op);
public sealed record OpAck(string ClientOpId, long? Seq, string? Rejected = null);

public sealed class Sequences
{
    public readonly ConcurrentDictionary<Guid, (SemaphoreSlim Gate, long[] Seq)> Images = new();
    public (SemaphoreSlim Gate, long[] Seq) For(Guid imageId) => Images.GetOrAdd(imageId, _ => (new SemaphoreSlim(1, 1), new long[1]));
}

public sealed class FloorHub(Sequences sequences) : Hub
{
    private string User => Context.GetHttpContext()!.Request.Query["user"].ToString();

    public async Task<object> JoinImage(Guid imageId)
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, imageId.ToString());
        return new { imageId, seq = sequences.For(imageId).Seq[0], annotations = Array.Empty<object>() };
    }

    public async Task<OpAck> Submit(SubmitOp op)
    {
        var (gate, seq) = sequences.For(op.ImageId);
        await gate.WaitAsync();
        try
        {
            long next = ++seq[0];
            await Clients.Group(op.ImageId.ToString()).SendAsync("Applied", new AppliedOp(next, User, op));
            return new OpAck(op.ClientOpId, next);
        }
        finally { gate.Release(); }
    }

    public object Resume(Guid imageId, long lastSeq) => new { imageId, seq = sequences.For(imageId).Seq[0], ops = Array.Empty<object>() };
}
