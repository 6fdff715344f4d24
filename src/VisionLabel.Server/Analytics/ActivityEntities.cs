namespace VisionLabel.Server.Analytics;

/// <summary>Active time of one person on one image on one UTC day (docs/analytics.md): the sum of the gaps they were active in.</summary>
public sealed class ActiveTime
{
    public required string UserName { get; set; }
    public Guid ImageId { get; set; }
    /// <summary>The UTC day the gap started on.</summary>
    public DateOnly Day { get; set; }
    public Guid ProjectId { get; set; }
    public double Seconds { get; set; }
    /// <summary>How many gaps were counted.</summary>
    public int Spans { get; set; }
}

/// <summary>The last activity event of a person on an image (server time), and whether it said the page was hidden.</summary>
public sealed class ActivityCursor
{
    public required string UserName { get; set; }
    public Guid ImageId { get; set; }
    public Guid ProjectId { get; set; }
    public DateTime LastAt { get; set; }
    public bool Hidden { get; set; }
}
