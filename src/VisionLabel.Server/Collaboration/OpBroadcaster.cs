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

    public async Task AppliedAsync(Guid imageId, IEnumerable<AppliedOp> ops)
    {
        var group = hub.Clients.Group(ImageGroup(imageId));
        foreach (var op in ops) await group.SendAsync("Applied", op, CancellationToken.None);
    }

    public Task ImageDeletedAsync(Guid imageId, string by) =>
        hub.Clients.Group(ImageGroup(imageId)).SendAsync("ImageDeleted", new ImageDeleted(imageId, by), CancellationToken.None);
}
