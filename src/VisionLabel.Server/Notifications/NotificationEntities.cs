namespace VisionLabel.Server.Notifications;

/// <summary>Why someone is told. On the wire: "rejected", "assigned", "commented", "review-queue".</summary>
public enum NotificationKind { Rejected, Assigned, Commented, ReviewQueue }

/// <summary>Something a person should see in the app's bell: their work rejected, work assigned to them, a comment on
/// their work, a review queue that filled up. Read when they open it.</summary>
public sealed class Notification
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    /// <summary>Who it is for (user name).</summary>
    public required string UserName { get; set; }
    public NotificationKind Kind { get; set; }
    public Guid ProjectId { get; set; }
    public Guid? ImageId { get; set; }
    public required string Text { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ReadAt { get; set; }
}
