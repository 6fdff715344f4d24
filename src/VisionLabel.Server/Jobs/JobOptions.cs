using System.ComponentModel.DataAnnotations;

namespace VisionLabel.Server.Jobs;

/// <summary>Section "VisionLabel:Jobs". Jobs run on Hangfire; its storage follows VisionLabel:Database (see JobsSetup).</summary>
public sealed class JobOptions
{
    public const string Section = "VisionLabel:Jobs";

    /// <summary>Pre-labeling chunks this process runs at once. Inference already uses every core, so one is usually right.</summary>
    [Range(1, 64)]
    public int Workers { get; set; } = 1;

    /// <summary>Images per Hangfire job: a big pre-labeling job is split so several workers (and processes) share it.</summary>
    [Range(1, 100_000)]
    public int ChunkSize { get; set; } = 256;

    /// <summary>
    /// A job fetched by a worker that died (its process was killed) is handed to another worker after this long.
    /// On PostgreSQL live workers keep their jobs by refreshing them (sliding invisibility), so this only bounds the
    /// takeover of a dead one. SQLite storage has no refresh: a chunk must finish within it (ChunkSize keeps them short),
    /// and each queue has one worker per process, so no second worker of this process can take a running chunk.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often idle workers look for new jobs in the storage.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often running jobs check whether someone cancelled them.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan CancelCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>First retry delay of a failed attempt; doubles with each attempt (Hangfire schedules the retry).</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(5);

    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Results written per database transaction.</summary>
    [Range(1, 1000)]
    public int WriteBatch { get; set; } = 16;

    /// <summary>Most frequent progress event per job.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Process jobs in this server (false: API only, e.g. when dedicated workers run elsewhere).</summary>
    public bool RunWorkers { get; set; } = true;
}
