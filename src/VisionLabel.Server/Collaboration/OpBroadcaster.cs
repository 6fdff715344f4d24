using Microsoft.AspNetCore.SignalR;

namespace VisionLabel.Server.Collaboration;

public sealed record ImageDeleted(Guid ImageId, string By);

/// <summary>
/// Sends applied ops to everyone on the image. Called by the sequencer while it still holds the image's gate,
/// so each connection receives an image's ops in sequence order.
/// </summary>
public sealed class OpBroadcaster(IHubContext<AnnotationsHub> hub)
{
    public static string ImageGroup(Guid imageId) => $"annotations:{imageId}";

    public Task AppliedAsync(Guid imageId, IEnumerable<AppliedOp> ops)
    {
        var group = hub.Clients.Group(ImageGroup(imageId));
        // All sends start before any is awaited: with the Redis backplane each send is a publish, and awaiting them
        // one by one put a Redis round trip per op inside the image's gate (under load, what limited an image's ops/s).
        // They are issued in seq order; clients hold an early op back by seq anyway (docs/realtime-protocol.md).
        var sends = new List<Task>();
        foreach (var op in ops) sends.Add(group.SendAsync("Applied", op, CancellationToken.None));
        return Task.WhenAll(sends);
    }

    public Task ImageDeletedAsync(Guid imageId, string by) =>
        hub.Clients.Group(ImageGroup(imageId)).SendAsync("ImageDeleted", new ImageDeleted(imageId, by), CancellationToken.None);
}
