using System.ComponentModel;
using System.Runtime.ExceptionServices;
using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Jobs;

/// <summary>What a kind of job does with a range of its items. Handlers must be resumable: they only process pending items.</summary>
public interface IJobHandler
{
    string Kind { get; }
    /// <summary>The Hangfire queue its chunks go to; each queue has its own workers (see JobsSetup).</summary>
    string Queue { get; }
    /// <summary>Chunked jobs are split over their items (ChunkSize each); others run as one Hangfire job.</summary>
    bool Chunked => false;
    Task RunAsync(Guid jobId, ItemRange range, CancellationToken ct);
}

/// <summary>A failure no retry can fix (the input is bad, or gone): the job is dead at once, with this message.</summary>
public sealed class PermanentJobFailure(string message) : Exception(message);

/// <summary>
/// The method Hangfire runs for each chunk of a job. Hangfire fetches it (one worker at a time), retries a failed attempt
/// with backoff (the AutomaticRetry filter set up in JobsSetup), hands a dead worker's chunk to another after the
/// invisibility timeout, and cancels the token on shutdown (the chunk is requeued and resumes from its pending items).
/// This method keeps the job's row in step: started, cancelled on request, completed by the last chunk, dead when
/// the last allowed attempt fails.
/// </summary>
public sealed class JobRunner(IServiceScopeFactory scopes, IEnumerable<IJobHandler> handlers, IOptions<JobOptions> options, Operations.ServerMetrics metrics, ILogger<JobRunner> log)
{
    private readonly Dictionary<string, IJobHandler> _handlers = handlers.ToDictionary(h => h.Kind);

    [DisplayName("Job {0}, images after {1} up to {2}")]
    public async Task RunAsync(Guid jobId, Guid? after, Guid? upTo, PerformContext? context, CancellationToken stopping)
    {
        int attempt = (context?.GetJobParameter<int>("RetryCount") ?? 0) + 1;
        Job? job;
        try { job = await Rows(r => r.StartAsync(jobId, attempt, stopping)); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning(e, "Job {JobId}: could not start attempt {Attempt}; Hangfire retries it", jobId, attempt);
            throw;
        }
        if (job is null || job.Status is JobStatus.Completed or JobStatus.Cancelled or JobStatus.Dead) return; // deleted, or ended by another chunk
        try
        {
            if (job.CancelRequested) { await Rows(r => r.FinishAsync(jobId, JobStatus.Cancelled, null, CancellationToken.None)); return; }
            if (!_handlers.TryGetValue(job.Kind, out var handler))
            {
                if (await Rows(r => r.FinishAsync(jobId, JobStatus.Dead, $"no handler for job kind '{job.Kind}'", CancellationToken.None)) > 0) Failed(job.Kind);
                return;
            }
            await RunAttempt(job, handler, new ItemRange(after, upTo), attempt, stopping);
        }
        finally
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<LiveEvents>().JobChangedAsync(jobId, force: true);
            }
            catch (Exception e) when (e is ObjectDisposedException || stopping.IsCancellationRequested)
            {
                // Shutting down: nobody is left to tell, and the job's row already says where it stands.
            }
        }
    }

    private async Task RunAttempt(Job job, IJobHandler handler, ItemRange range, int attempt, CancellationToken stopping)
    {
        using var run = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        bool cancelRequested = false;
        var watcher = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(options.Value.CancelCheckInterval);
            try
            {
                while (await timer.WaitForNextTickAsync(run.Token))
                    if (await Rows(r => r.CancelRequestedAsync(job.Id, run.Token))) { cancelRequested = true; await run.CancelAsync(); }
            }
            catch (OperationCanceledException) { }
        });

        log.LogInformation("Job {JobId} ({Kind}) attempt {Attempt}: images after {After} up to {UpTo}", job.Id, job.Kind, attempt, range.After, range.UpTo);
        Exception? failure = null;
        try { await handler.RunAsync(job.Id, range, run.Token); }
        catch (Exception e) { failure = e; }
        await run.CancelAsync(); // stops the watcher before the row changes
        await watcher;

        if (cancelRequested && failure is null or OperationCanceledException)
            await Rows(r => r.FinishAsync(job.Id, JobStatus.Cancelled, null, CancellationToken.None));
        else if (failure is null)
            await Rows(r => r.CompleteIfDoneAsync(job.Id, CancellationToken.None));
        else if (failure is OperationCanceledException && stopping.IsCancellationRequested)
            ExceptionDispatchInfo.Throw(failure); // shutting down: Hangfire requeues the chunk and it resumes from its pending items
        else if (failure is PermanentJobFailure)
        {
            if (await Rows(r => r.FinishAsync(job.Id, JobStatus.Dead, failure.Message, CancellationToken.None)) > 0) Failed(job.Kind);
            log.LogWarning("Job {JobId} failed for good: {Reason}", job.Id, failure.Message); // Hangfire records it as done: nothing to retry
        }
        else
        {
            if (attempt >= job.MaxAttempts)
            {
                if (await Rows(r => r.FinishAsync(job.Id, JobStatus.Dead, $"gave up after {attempt} attempt(s): {failure.Message}", CancellationToken.None)) > 0) Failed(job.Kind);
            }
            else
                await Rows(r => r.RetryLaterAsync(job.Id, failure.Message, CancellationToken.None));
            log.LogWarning(failure, "Job {JobId} attempt {Attempt} of {Max} failed", job.Id, attempt, job.MaxAttempts);
            ExceptionDispatchInfo.Throw(failure); // Hangfire schedules the next attempt, or records the chunk as failed after the last one
        }
    }

    private void Failed(string kind) => metrics.JobFailures.Add(1, new KeyValuePair<string, object?>("kind", kind));

    private async Task<T> Rows<T>(Func<JobRows, Task<T>> action)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<JobRows>());
    }
}
