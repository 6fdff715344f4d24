using System.ComponentModel.DataAnnotations;

namespace VisionLabel.Server.Maintenance;

/// <summary>Section "VisionLabel:Maintenance": what the sweeps remove, and when.</summary>
public sealed class MaintenanceOptions
{
    public const string Section = "VisionLabel:Maintenance";

    /// <summary>Temp uploads, import spools and half-written blobs older than this are left over from a crash.
    /// Longer than the slowest upload you expect (one temp file is written for the whole of a file's upload).</summary>
    public TimeSpan TempMaxAge { get; set; } = TimeSpan.FromHours(6);

    /// <summary>A blob nothing references is removed once it has not been written or reused for this long, so an upload
    /// of the same content running while its image or project is deleted keeps its file.</summary>
    public TimeSpan BlobGracePeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>When the sweeps run while the server is up, as a cron expression (a Hangfire recurring job on the
    /// "maintenance" queue, so one server of a cluster runs each one); they also run once at start-up, before it serves.</summary>
    [Required, RegularExpression(@"^\S+( \S+){4,5}$", ErrorMessage = "SweepCron must be a cron expression of 5 fields (or 6 with seconds)")]
    public string SweepCron { get; set; } = "*/15 * * * *";
}
