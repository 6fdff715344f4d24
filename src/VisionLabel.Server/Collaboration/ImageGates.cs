using System.Collections.Concurrent;

namespace VisionLabel.Server.Collaboration;

/// <summary>
/// Per-image ordering inside this process: work on one image runs one piece at a time, so ops get consecutive
/// sequence numbers and are broadcast in that order. Different images never wait for each other.
/// </summary>
public sealed class ImageGates
{
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _gates = new();

    public async Task<T> RunAsync<T>(Guid imageId, Func<Task<T>> work, CancellationToken ct = default)
    {
        var gate = _gates.GetOrAdd(imageId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try { return await work(); }
        finally { gate.Release(); }
    }
}
