using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;
using VisionLabel.Server.Jobs;

namespace VisionLabel.Server.Health;

/// <summary>A dataset health run (docs/analytics.md): hashes the images that need it (progress: images hashed of those
/// to hash), then computes the figures and keeps them as the job's result. One Hangfire job, on the maintenance queue.</summary>
public sealed class HealthJob(IServiceScopeFactory scopes, TimeProvider time) : IJobHandler
{
    public const string JobKind = "health";
    public string Kind => JobKind;
    public string Queue => JobDispatcher.MaintenanceQueue;

    public async Task RunAsync(Guid jobId, ItemRange range, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        var job = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == jobId, ct);
        var payload = JsonSerializer.Deserialize<HealthPayload>(job.Payload, JsonSerializerOptions.Web)!;
        if (!await db.Projects.AnyAsync(p => p.Id == payload.ProjectId, ct)) throw new PermanentJobFailure("the project was deleted before its health run");
        var health = scope.ServiceProvider.GetRequiredService<DatasetHealth>();
        var live = scope.ServiceProvider.GetRequiredService<LiveEvents>();
        int unhashed = await health.HashAsync(payload.ProjectId, new Progress(scopes, jobId), ct);
        var result = await health.ComputeAsync(payload, unhashed, time.GetUtcNow().UtcDateTime, ct);
        await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Result, JsonSerializer.Serialize(result, JsonSerializerOptions.Web)), CancellationToken.None);
        await live.JobChangedAsync(jobId, force: true);
    }

    /// <summary>Images hashed of those to hash, to the job's row and its watchers (throttled by LiveEvents).</summary>
    private sealed class Progress(IServiceScopeFactory scopes, Guid jobId) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => Write(value).GetAwaiter().GetResult();

        private async Task Write((int Done, int Total) value)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Done, value.Done).SetProperty(j => j.Total, value.Total));
            await scope.ServiceProvider.GetRequiredService<LiveEvents>().JobChangedAsync(jobId);
        }
    }
}
