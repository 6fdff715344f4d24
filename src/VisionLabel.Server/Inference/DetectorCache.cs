using Microsoft.Extensions.Options;
using VisionLabel.Inference;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Inference;

/// <summary>Section "VisionLabel:Models": how long loaded models stay in memory.</summary>
public sealed class ModelCacheOptions
{
    public const string Section = "VisionLabel:Models";

    /// <summary>
    /// A loaded model nobody has used for this long is unloaded (its next job loads it again, ~250 ms). This is also
    /// how a model deleted through another server process leaves this process's memory.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan UnloadAfter { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// Loaded sessions by model, shared by the jobs that use them (loading costs ~250 ms and tens of MB). A job holds a
/// lease while it runs; a model without leases is unloaded once idle for UnloadAfter, or at once when it is deleted
/// through this process. A session is never disposed while a lease on it is held.
/// </summary>
public sealed class DetectorCache(IBlobStore blobs, IOptions<InferenceOptions> options, IOptions<ModelCacheOptions> cache,
    ILogger<DetectorCache> log) : BackgroundService
{
    private readonly TimeProvider _clock = TimeProvider.System;
    private sealed class Entry(Task<Detector> loading)
    {
        public Task<Detector> Loading { get; } = loading;
        public int Leases;
        public DateTimeOffset LastReleased;
        public bool Removed;
    }

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Entry> _entries = new();

    /// <summary>Models loaded now (or loading).</summary>
    public int Count { get { lock (_lock) return _entries.Count; } }

    /// <summary>Raised after a model's session is disposed (tests wait on it).</summary>
    public event Action<Guid>? Unloaded;

    /// <summary>The model's session, loaded on first use; dispose the lease when done with it.</summary>
    public async Task<DetectorLease> LeaseAsync(DetectionModel model, CancellationToken ct)
    {
        Entry entry;
        lock (_lock)
        {
            if (!_entries.TryGetValue(model.Id, out entry!))
                _entries[model.Id] = entry = new Entry(Task.Run(() => LoadAsync(model), CancellationToken.None));
            entry.Leases++;
        }
        try { return new DetectorLease(await entry.Loading.WaitAsync(ct), () => Release(model.Id, entry)); }
        catch
        {
            bool failed = entry.Loading.IsFaulted;
            Release(model.Id, entry);
            if (failed) Remove(model.Id, entry); // let a retry load it again
            throw;
        }
    }

    /// <summary>The model was deleted: drop it now, or when its last lease ends.</summary>
    public void Forget(Guid modelId)
    {
        Entry? entry;
        lock (_lock) if (!_entries.TryGetValue(modelId, out entry)) return;
        Remove(modelId, entry);
    }

    private void Release(Guid modelId, Entry entry)
    {
        bool dispose;
        lock (_lock)
        {
            entry.Leases--;
            entry.LastReleased = _clock.GetUtcNow();
            dispose = entry.Removed && entry.Leases == 0;
        }
        if (dispose) Dispose(modelId, entry);
    }

    private void Remove(Guid modelId, Entry entry)
    {
        bool dispose;
        lock (_lock)
        {
            if (_entries.TryGetValue(modelId, out var current) && current == entry) _entries.Remove(modelId);
            dispose = !entry.Removed && entry.Leases == 0;
            entry.Removed = true;
        }
        if (dispose) Dispose(modelId, entry);
    }

    private void Dispose(Guid modelId, Entry entry)
    {
        if (!entry.Loading.IsCompleted)
        {
            // Still loading (its only lease was cancelled): dispose the session once it is there, or it would leak.
            entry.Loading.ContinueWith(_ => Dispose(modelId, entry), TaskScheduler.Default);
            return;
        }
        if (entry.Loading.IsCompletedSuccessfully)
        {
            entry.Loading.Result.Dispose();
            log.LogInformation("Unloaded model {ModelId}", modelId);
        }
        Unloaded?.Invoke(modelId);
    }

    /// <summary>Unloads models idle for UnloadAfter, checking a few times per period.</summary>
    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var idle = cache.Value.UnloadAfter;
        using var timer = new PeriodicTimer(idle / 4 < TimeSpan.FromMinutes(1) ? idle / 4 : TimeSpan.FromMinutes(1), _clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                List<(Guid, Entry)> stale;
                var now = _clock.GetUtcNow();
                lock (_lock)
                    stale = _entries.Where(e => e.Value.Leases == 0 && e.Value.Loading.IsCompleted && now - e.Value.LastReleased >= idle)
                        .Select(e => (e.Key, e.Value)).ToList();
                foreach (var (id, entry) in stale) Remove(id, entry);
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task<Detector> LoadAsync(DetectionModel model)
    {
        byte[] bytes = await blobs.ReadAllBytesAsync(model.BlobKey)
            ?? throw new FileNotFoundException($"the file of model '{model.Name}' ({model.BlobKey}) is missing from the blob store");
        var detector = Detector.Load(bytes, new InferenceDevice(options.Value, log), ModelDto.ClassNamesOf(model));
        log.LogInformation("Loaded model {Model} on {Device}", model.Name, detector.OnCuda ? "CUDA" : $"CPU x{detector.ConcurrentRuns}");
        return detector;
    }

    /// <summary>Shutdown: every model is removed; those a job still holds are disposed when its lease ends.</summary>
    public override void Dispose()
    {
        base.Dispose();
        foreach (var (id, entry) in Snapshot()) Remove(id, entry);
    }

    private List<KeyValuePair<Guid, Entry>> Snapshot()
    {
        lock (_lock) return _entries.ToList();
    }
}

/// <summary>A job's hold on a loaded model: the session stays loaded until every lease on it is disposed.</summary>
public sealed class DetectorLease(Detector detector, Action release) : IDisposable
{
    private int _released;
    public Detector Detector { get; } = detector;
    public void Dispose() { if (Interlocked.Exchange(ref _released, 1) == 0) release(); }
}
