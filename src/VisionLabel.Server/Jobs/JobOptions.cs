namespace VisionLabel.Server.Jobs;

/// <summary>Section "VisionLabel:Jobs".</summary>
public sealed class JobOptions
{
    public const string Section = "VisionLabel:Jobs";

    /// <summary>Jobs this process runs at once. Inference already uses every core, so one is usually right.</summary>
    public int Workers { get; set; } = 1;
    /// <summary>How long a claimed job stays ours without a heartbeat; after that another worker may take it.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>How often an idle worker looks for work queued by other processes (in-process enqueues wake it at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>First retry delay; doubles with each attempt.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(5);
    public int MaxAttempts { get; set; } = 3;
    /// <summary>Results written per database transaction.</summary>
    public int WriteBatch { get; set; } = 16;
    /// <summary>Most frequent progress event per job.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromMilliseconds(250);
    /// <summary>Process jobs in this server (false: API only, e.g. when dedicated workers run elsewhere).</summary>
    public bool RunWorkers { get; set; } = true;
}
