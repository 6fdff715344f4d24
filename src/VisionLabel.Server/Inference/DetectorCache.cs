using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using VisionLabel.Inference;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Inference;

/// <summary>One loaded session per model for the life of the process (loading costs ~250 ms and memory).</summary>
public sealed class DetectorCache(IBlobStore blobs, IOptions<InferenceOptions> options, ILogger<DetectorCache> log) : IDisposable
{
    private readonly ConcurrentDictionary<Guid, Lazy<Task<Detector>>> _detectors = new();

    public async Task<Detector> GetAsync(DetectionModel model, CancellationToken ct)
    {
        var entry = _detectors.GetOrAdd(model.Id, _ => new Lazy<Task<Detector>>(() => LoadAsync(model)));
        try { return await entry.Value.WaitAsync(ct); }
        catch when (entry.Value.IsFaulted)
        {
            _detectors.TryRemove(new KeyValuePair<Guid, Lazy<Task<Detector>>>(model.Id, entry)); // let a retry load it again
            throw;
        }
    }

    private async Task<Detector> LoadAsync(DetectionModel model)
    {
        byte[] bytes = await blobs.ReadAllBytesAsync(model.BlobKey)
            ?? throw new FileNotFoundException($"the file of model '{model.Name}' ({model.BlobKey}) is missing from the blob store");
        var detector = Detector.Load(bytes, new InferenceDevice(options.Value, log), ModelDto.ClassNamesOf(model));
        log.LogInformation("Loaded model {Model} on {Device}", model.Name, detector.OnCuda ? "CUDA" : $"CPU x{detector.ConcurrentRuns}");
        return detector;
    }

    public void Dispose()
    {
        foreach (var entry in _detectors.Values)
            if (entry.IsValueCreated && entry.Value.IsCompletedSuccessfully) entry.Value.Result.Dispose();
    }
}
