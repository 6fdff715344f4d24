using Microsoft.AspNetCore.SignalR;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

public sealed record ImageDeleted(Guid ImageId, string By);

/// <summary>
/// Sends applied ops to everyone on the image. Called by the sequencer while it still holds the image's gate,
/// so each connection receives an image's ops in sequence order.
/// </summary>
public sealed class OpBroadcaster(IHubContext<AnnotationsHub> hub, Operations.ServerMetrics metrics, ILogger<OpBroadcaster> log)
{
    public static string ImageGroup(Guid imageId) => $"annotations:{imageId}";

    /// <summary>
    /// Called after the ops committed, so a failed send (the backplane unreachable) must not fail the op: it is logged,
    /// and clients fill the gap with Resume when the next op arrives (or when they reconnect).
    /// </summary>
    public async Task AppliedAsync(Guid imageId, IEnumerable<AppliedOp> ops)
    {
        var group = hub.Clients.Group(ImageGroup(imageId));
        // All sends start before any is awaited: with the Redis backplane each send is a publish, and awaiting them
        // one by one put a Redis round trip per op inside the image's gate (under load, what limited an image's ops/s).
        // They are issued in seq order, and each connection writes in call order; clients hold an early op back by seq.
        var sends = new List<Task>();
        try
        {
            foreach (var op in ops) sends.Add(group.SendAsync("Applied", op, CancellationToken.None));
            metrics.OpsApplied.Add(sends.Count); // every write path broadcasts here, once per committed op
            await Task.WhenAll(sends);
        }
        catch (Exception e)
        {
            log.LogWarning(e, "Broadcasting {Count} applied op(s) on image {ImageId} failed; they are stored, and clients get them through Resume",
                sends.Count, imageId);
        }
    }

    /// <summary>The image's status moved (review, or an edit or a job moving it along): everyone on it shows the new one.</summary>
    public async Task StatusChangedAsync(Guid imageId, ImageStatus status, string by)
    {
        try { await hub.Clients.Group(ImageGroup(imageId)).SendAsync("ImageStatusChanged", new ImageStatusChanged(imageId, status, by), CancellationToken.None); }
        catch (Exception e) { log.LogWarning(e, "Broadcasting the status of image {ImageId} failed; it is stored, and a reload shows it", imageId); }
    }

    /// <summary>After the delete committed: a failed send is logged, never a failed delete (clients find the image gone).</summary>
    public async Task ImageDeletedAsync(Guid imageId, string by)
    {
        try { await hub.Clients.Group(ImageGroup(imageId)).SendAsync("ImageDeleted", new ImageDeleted(imageId, by), CancellationToken.None); }
        catch (Exception e) { log.LogWarning(e, "Broadcasting the delete of image {ImageId} failed; it is deleted", imageId); }
    }
}
