using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Datasets;

/// <summary>What an import job was asked to do: the zip (in the blob store, so any worker of any server reads it), its
/// format, the project, and whether the request made that project (a failed import then removes it).</summary>
public sealed record ImportPayload(string Format, Guid ProjectId, bool ProjectCreated, string ZipKey);

/// <summary>
/// A dataset import as a background job on the "imports" queue: the request validated and stored the zip; this
/// replays it into the project with progress on the job (and ImportProgress to the project's watchers). A crash or a
/// restart mid-import resumes it (see <see cref="DatasetImport"/>); a dataset that turns out bad, or a cancel, rolls
/// back what it added. The report is the job's result.
/// </summary>
/// <summary>Told when an import job has finished (dataset health reruns).</summary>
public interface IImportObserver
{
    Task ImportedAsync(Guid projectId);
}

public sealed class ImportJob(IServiceScopeFactory scopes, IBlobStore blobs, IOptions<DatasetOptions> options) : IJobHandler
{
    public const string JobKind = "import";
    public string Kind => JobKind;
    public string Queue => JobDispatcher.ImportQueue;

    public static string ZipKey(Guid jobId) => $"imports/{jobId:N}.zip";

    public async Task RunAsync(Guid jobId, ItemRange range, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        var job = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == jobId, ct);
        var payload = JsonSerializer.Deserialize<ImportPayload>(job.Payload)!;
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == payload.ProjectId, ct)
                      ?? throw new PermanentJobFailure("the project was deleted before the import ran");
        if (!DatasetFormats.Importers.TryGetValue(payload.Format, out var importer)) throw new PermanentJobFailure($"unknown format {payload.Format}");
        await using var zip = await blobs.OpenReadAsync(payload.ZipKey, ct)
                              ?? throw new PermanentJobFailure($"the uploaded zip ({payload.ZipKey}) is gone from the blob store; upload the dataset again");

        var progress = new JobProgressWriter(scopes, jobId, payload.ProjectId);
        ImportReport report;
        try
        {
            using var source = new ZipSource(zip, options.Value);
            report = await scope.ServiceProvider.GetRequiredService<DatasetImport>().AsJobAsync(jobId, project, payload.ProjectCreated, importer, source, progress, ct);
        }
        catch (DatasetException e) { throw new PermanentJobFailure($"{e.Message}; nothing was imported"); } // retrying reads the same bytes
        await progress.Flushed;
        await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Result, JsonSerializer.Serialize(report, JsonSerializerOptions.Web))
            .SetProperty(j => j.Done, report.ImagesCreated + report.ImagesAlreadyPresent), CancellationToken.None);
        await blobs.DeleteAsync(payload.ZipKey, CancellationToken.None);
        foreach (var observer in scope.ServiceProvider.GetServices<IImportObserver>()) await observer.ImportedAsync(payload.ProjectId);
    }

    /// <summary>Progress to the job's row (Done of Total) and to the project's live watchers, one write at a time.</summary>
    private sealed class JobProgressWriter(IServiceScopeFactory scopes, Guid jobId, Guid projectId) : IProgress<ImportProgress>
    {
        private Task _last = Task.CompletedTask;
        private readonly Lock _lock = new();
        public Task Flushed { get { lock (_lock) return _last; } }

        public void Report(ImportProgress value)
        {
            lock (_lock) _last = _last.ContinueWith(_ => WriteAsync(value), TaskScheduler.Default).Unwrap();
        }

        private async Task WriteAsync(ImportProgress p)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Done, p.ImagesDone).SetProperty(j => j.Total, p.ImagesTotal));
            var live = scope.ServiceProvider.GetRequiredService<LiveEvents>();
            await live.ImportProgressAsync(projectId, p);
            await live.JobChangedAsync(jobId);
        }
    }
}
