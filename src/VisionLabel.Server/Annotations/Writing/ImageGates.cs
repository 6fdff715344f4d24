namespace VisionLabel.Server.Annotations;

/// <summary>
/// Per-image ordering inside this process: work on one image runs one piece at a time, so ops get consecutive
/// sequence numbers and are broadcast in that order. Different images never wait for each other. A gate exists only
/// while someone holds or waits for it, so a server that has written to millions of images keeps none of them.
/// </summary>
public sealed class ImageGates
{
    private sealed class Gate
    {
        public readonly SemaphoreSlim Semaphore = new(1, 1);
        public int Users; // holding or waiting; changed under _lock
    }

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Gate> _gates = new();

    /// <summary>Images with work running or waiting.</summary>
    public int Count { get { lock (_lock) return _gates.Count; } }

    public async Task<T> RunAsync<T>(Guid imageId, Func<Task<T>> work, CancellationToken ct = default)
    {
        Gate? gate;
        lock (_lock)
        {
            if (!_gates.TryGetValue(imageId, out gate)) _gates[imageId] = gate = new Gate();
            gate.Users++;
        }
        try
        {
            await gate.Semaphore.WaitAsync(ct);
            try { return await work(); }
            finally { gate.Semaphore.Release(); }
        }
        finally
        {
            lock (_lock)
                if (--gate.Users == 0) _gates.Remove(imageId);
        }
    }
}
