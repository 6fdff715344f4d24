using System.Threading.Channels;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Jobs;

/// <summary>What a kind of job does. Handlers must be resumable: they only process the job's pending items.</summary>
public interface IJobHandler
{
    string Kind { get; }
    Task RunAsync(Guid jobId, CancellationToken ct);
}

/// <summary>Wakes idle workers when this process enqueues a job, so they need not wait for the next poll.</summary>
public sealed class JobSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    public void Notify() => _channel.Writer.TryWrite(true);
    public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try { await _channel.Reader.ReadAsync(cts.Token); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
    }
}

/// <summary>
/// Claims jobs and runs them while a heartbeat keeps the lease. Shutdown hands the job back (it resumes at
/// once elsewhere or after restart); a crash leaves the lease to expire; a failure retries with backoff.
/// </summary>
public sealed class JobWorker(IServiceScopeFactory scopes, IEnumerable<IJobHandler> handlers, JobSignal signal,
    IOptions<JobOptions> options, ILogger<JobWorker> log) : BackgroundService
{
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    private readonly Dictionary<string, IJobHandler> _handlers = handlers.ToDictionary(h => h.Kind);

    protected override Task ExecuteAsync(CancellationToken stopping) =>
        Task.WhenAll(Enumerable.Range(0, Math.Max(1, options.Value.Workers)).Select(i => Task.Run(() => WorkLoop($"{_owner}/{i}", stopping), stopping)));

    private async Task WorkLoop(string owner, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Guid? jobId = null;
            try
            {
                await using (var scope = scopes.CreateAsyncScope())
                    jobId = await scope.ServiceProvider.GetRequiredService<JobQueue>().ClaimAsync(owner, stopping);
                if (jobId is null) { await signal.WaitAsync(options.Value.PollInterval, stopping); continue; }
                await RunClaimed(jobId.Value, owner, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                // The database itself failing: log, back off, try again; the lease (if any) expires on its own.
                log.LogError(e, "Job worker error (job {JobId})", jobId);
                await Task.Delay(options.Value.PollInterval, stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task RunClaimed(Guid jobId, string owner, CancellationToken stopping)
    {
        Job job;
        await using (var scope = scopes.CreateAsyncScope())
            job = await scope.ServiceProvider.GetRequiredService<VisionLabelDb>().Jobs.FindAsync([jobId], stopping) ?? throw new InvalidOperationException("claimed job vanished");

        if (job.Attempts > job.MaxAttempts)
        {
            // It was claimed again after its last allowed attempt died with the process.
            await WithQueue(q => q.FinishAsync(jobId, owner, JobStatus.Dead, $"gave up after {job.MaxAttempts} attempt(s); last: {job.LastError ?? "the worker stopped while running it"}"));
            return;
        }
        if (!_handlers.TryGetValue(job.Kind, out var handler))
        {
            await WithQueue(q => q.FinishAsync(jobId, owner, JobStatus.Dead, $"no handler for job kind '{job.Kind}'"));
            return;
        }

        using var run = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        bool cancelRequested = job.CancelRequested, leaseLost = false;
        var heartbeat = Task.Run(async () =>
        {
            while (!run.IsCancellationRequested)
            {
                try { await Task.Delay(options.Value.HeartbeatInterval, run.Token); }
                catch (OperationCanceledException) { return; }
                var (owned, cancel) = await WithQueue(q => q.HeartbeatAsync(jobId, owner, CancellationToken.None));
                if (!owned) leaseLost = true;
                if (cancel) cancelRequested = true;
                if (!owned || cancel) await run.CancelAsync();
            }
        });

        log.LogInformation("Job {JobId} ({Kind}) attempt {Attempt} started by {Owner}", jobId, job.Kind, job.Attempts, owner);
        try
        {
            if (cancelRequested) throw new OperationCanceledException();
            await handler.RunAsync(jobId, run.Token);
            await run.CancelAsync();
            await heartbeat;
            await WithQueue(q => q.FinishAsync(jobId, owner, cancelRequested ? JobStatus.Cancelled : JobStatus.Completed));
            log.LogInformation("Job {JobId} finished", jobId);
        }
        catch (OperationCanceledException)
        {
            await run.CancelAsync();
            await heartbeat;
            if (leaseLost) log.LogWarning("Job {JobId}: lease lost; another worker owns it now", jobId);
            else if (cancelRequested) await WithQueue(q => q.FinishAsync(jobId, owner, JobStatus.Cancelled));
            else await WithQueue(q => q.ReleaseAsync(jobId, owner)); // shutting down: resume later from pending items
        }
        catch (Exception e)
        {
            await run.CancelAsync();
            await heartbeat;
            var status = await WithQueue(q => q.FailAsync(jobId, owner, e.Message));
            log.LogWarning(e, "Job {JobId} attempt failed; now {Status}", jobId, status);
        }
        finally
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<Live.LiveEvents>().JobChangedAsync(jobId, force: true);
            }
            catch (Exception e) when (e is ObjectDisposedException || stopping.IsCancellationRequested)
            {
                // Shutting down: nobody is left to tell, and the job's row already says where it stands.
            }
        }
    }

    private async Task<T> WithQueue<T>(Func<JobQueue, Task<T>> action)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<JobQueue>());
    }
}
