using VisionLabel.Server.Accounts;
using Hangfire;
using Hangfire.Common;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Common;
using VisionLabel.Server.Maintenance;

namespace VisionLabel.Server.Jobs;

/// <summary>
/// Background work on Hangfire. Its storage follows the database: Hangfire.PostgreSql in the same PostgreSQL database
/// (schema "hangfire"), or Hangfire.Storage.SQLite in a file beside the SQLite database. Everything Hangfire needs is
/// registered per host (storage, filters, activator), not in its static GlobalConfiguration, so several servers can
/// live in one process (the tests do this).
/// </summary>
public static class JobsSetup
{
    public static IServiceCollection AddJobs(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<JobOptions>().Bind(configuration.GetSection(JobOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        // Progress to the pages that show it (/hubs/live).
        services.AddSingleton<ProgressThrottle>();
        services.AddScoped<LiveEvents>();
        services.AddSingleton<JobStorage>(sp => CreateStorage(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value,
            sp.GetRequiredService<IOptions<VisionLabelOptions>>().Value, sp.GetRequiredService<IOptions<JobOptions>>().Value));
        services.AddSingleton<JobActivator>(sp => new Hangfire.AspNetCore.AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddSingleton<IJobFilterProvider>(sp => Filters(sp.GetRequiredService<IOptions<JobOptions>>().Value));
        // The client, recurring-job manager and dashboard services (they take the per-host ones above). Hangfire's log
        // provider is static: point it at this host's logging in a way that survives the host being disposed first.
        services.AddHangfire((sp, config) => config.UseLogProvider(new HostLogProvider(sp.GetRequiredService<ILoggerFactory>())));

        services.AddScoped<JobRows>();
        services.AddSingleton<JobDispatcher>();
        services.AddTransient<JobRunner>();

        if (configuration.GetValue(JobOptions.Section + ":RunWorkers", true))
        {
            // One server per queue, so a long pre-labeling chunk never holds up an import or a sweep, and this process
            // never runs more pre-labeling chunks at once than Workers (inference already uses every core). One worker
            // per queue also keeps SQLite storage from handing a long-running job to a second worker of this process.
            // Only the first runs the schedulers (retries, the recurring sweep) and the storage's own processes (expiry,
            // and on PostgreSQL the refresh of every fetched job of this process): once per process is enough, and each
            // poll costs CPU the pre-labeling needs.
            services.AddHangfireServer((sp, o) => Server(sp, o, JobDispatcher.PrelabelQueue, sp.GetRequiredService<IOptions<JobOptions>>().Value.Workers));
            services.AddHangfireServer((sp, o) => Server(sp, o, JobDispatcher.ImportQueue, 1, lightweight: true));
            services.AddHangfireServer((sp, o) => Server(sp, o, JobDispatcher.MaintenanceQueue, 1, lightweight: true));
            // Webhook deliveries: short (a 10 s timeout), two at a time so one slow receiver does not hold up the others.
            services.AddHangfireServer((sp, o) => Server(sp, o, Webhooks.Webhooks.Queue, 2, lightweight: true));
        }
        return services;
    }

    /// <summary>At start-up, before serving: the recurring sweep is scheduled and jobs a stopped process left un-enqueued are enqueued.</summary>
    public static async Task StartJobsAsync(this IServiceProvider services)
    {
        var maintenance = services.GetRequiredService<IOptions<MaintenanceOptions>>().Value;
        services.GetRequiredService<IRecurringJobManager>().AddOrUpdate<MaintenanceSweeper>("maintenance-sweep", JobDispatcher.MaintenanceQueue,
            s => s.SweepAsync(CancellationToken.None), maintenance.SweepCron);
        // Webhook attempts left undone (a process killed mid-send, a retry that found the claim taken) are enqueued
        // again every few minutes, not only at start-up: one overdue by 5 minutes is not coming otherwise.
        services.GetRequiredService<IRecurringJobManager>().AddOrUpdate<Webhooks.Webhooks>("webhook-leftovers", Webhooks.Webhooks.Queue,
            w => w.DispatchLeftoversAsync(TimeSpan.FromMinutes(5), CancellationToken.None), "*/5 * * * *");
        await services.GetRequiredService<JobDispatcher>().DispatchLeftoversAsync();
    }

    /// <summary>The dashboard at /hangfire: read-only until accounts exist (nothing can be retried or deleted from it).</summary>
    public static IEndpointRouteBuilder MapJobsDashboard(this IEndpointRouteBuilder app)
    {
        // Admins only (AccessMiddleware, with their cookie or token); read-only, so its polling POSTs count as reads.
        app.MapHangfireDashboardWithNoAuthorizationFilters("/hangfire", new DashboardOptions
        {
            IsReadOnlyFunc = _ => true, DashboardTitle = "VisionLabel jobs", AppPath = "/", DisplayStorageConnectionString = false,
        }).RequireAdmin(writes: false);
        return app;
    }

    private static void Server(IServiceProvider sp, BackgroundJobServerOptions o, string queue, int workers, bool lightweight = false)
    {
        var jobs = sp.GetRequiredService<IOptions<JobOptions>>().Value;
        o.IsLightweightServer = lightweight;
        o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:{queue}";
        o.Queues = [queue];
        o.WorkerCount = workers;
        o.SchedulePollingInterval = jobs.PollInterval; // retries and recurring jobs are due this soon after their time
        o.CancellationCheckInterval = jobs.CancelCheckInterval;
        o.ShutdownTimeout = TimeSpan.FromSeconds(15);
    }

    private static JobFilterProviderCollection Filters(JobOptions jobs)
    {
        // Hangfire's default global filters, with our retry policy instead of its 10 attempts: MaxAttempts in all,
        // RetryBackoff doubling (Hangfire counts whole seconds).
        var filters = new JobFilterCollection();
        filters.Add(new AutomaticRetryAttribute
        {
            Attempts = jobs.MaxAttempts - 1, OnAttemptsExceeded = AttemptsExceededAction.Fail,
            DelayInSecondsByAttemptFunc = retry => (int)Math.Min(86_400, jobs.RetryBackoff.TotalSeconds * Math.Pow(2, retry - 1)),
        });
        filters.Add(new StatisticsHistoryAttribute());
        filters.Add(new ContinuationsSupportAttribute());
        return new JobFilterProviderCollection(filters, new JobFilterAttributeFilterProvider());
    }

    private static JobStorage CreateStorage(DatabaseOptions db, VisionLabelOptions app, JobOptions jobs)
    {
        if (Data.DatabaseSetup.Provider(db) == "postgres")
        {
            var options = new PostgreSqlStorageOptions
            {
                SchemaName = "hangfire", PrepareSchemaIfNecessary = true, QueuePollInterval = jobs.PollInterval,
                // Live workers refresh what they fetched, so a short timeout only bounds the takeover of a dead one.
                UseSlidingInvisibilityTimeout = true, InvisibilityTimeout = jobs.InvisibilityTimeout,
            };
            // The storage installs its schema when made. Processes started together on an empty database raced there
            // (CREATE SCHEMA: duplicate key in pg_namespace, and the loser exited): one at a time under a lock.
            using (Data.AdvisoryLocks.Hold(db.ConnectionString!, Data.AdvisoryLocks.HangfireSchema))
                return new PostgreSqlStorage(new NpgsqlConnectionFactory(db.ConnectionString!, options), options);
        }
        string path = Path.ChangeExtension(Data.DatabaseSetup.SqliteFile(db, app), null) + ".hangfire.db";
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return new SQLiteStorage(path, new SQLiteStorageOptions
        {
            QueuePollInterval = jobs.PollInterval, InvisibilityTimeout = jobs.InvisibilityTimeout,
        });
    }
}

/// <summary>
/// Hangfire's logging (a process-wide setting) through this host's ILoggerFactory. Hangfire components of another host
/// in the same process (tests run many) may log after this host is gone: those messages are dropped, not thrown.
/// </summary>
internal sealed class HostLogProvider(ILoggerFactory factory) : Hangfire.Logging.ILogProvider
{
    public Hangfire.Logging.ILog GetLogger(string name) => new HostLog(factory, name);

    private sealed class HostLog(ILoggerFactory factory, string name) : Hangfire.Logging.ILog
    {
        private ILogger? _logger;

        public bool Log(Hangfire.Logging.LogLevel level, Func<string>? message, Exception? exception = null)
        {
            try
            {
                _logger ??= factory.CreateLogger(name);
                var mapped = level switch
                {
                    Hangfire.Logging.LogLevel.Trace => LogLevel.Trace, Hangfire.Logging.LogLevel.Debug => LogLevel.Debug,
                    Hangfire.Logging.LogLevel.Info => LogLevel.Information, Hangfire.Logging.LogLevel.Warn => LogLevel.Warning,
                    Hangfire.Logging.LogLevel.Error => LogLevel.Error, _ => LogLevel.Critical,
                };
                if (message is null) return _logger.IsEnabled(mapped); // Hangfire asks whether a level is on this way
                if (_logger.IsEnabled(mapped)) _logger.Log(mapped, exception, "{Message}", message());
                return true;
            }
            catch (ObjectDisposedException) { return false; }
        }
    }
}
