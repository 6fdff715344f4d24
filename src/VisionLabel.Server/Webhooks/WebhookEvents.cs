namespace VisionLabel.Server.Webhooks;

/// <summary>The events a hook can ask for, by their public names (docs/webhooks.md says what each one's data holds).</summary>
public static class WebhookEvents
{
    public const string ImageSubmitted = "image.submitted";
    public const string ImageApproved = "image.approved";
    public const string ImageRejected = "image.rejected";
    public const string JobCompleted = "job.completed";
    public const string JobFailed = "job.failed";
    public const string ExportReady = "export.ready";
    public const string MemberAdded = "member.added";
    public const string MemberRemoved = "member.removed";
    public const string GuidelinePublished = "guideline.published";

    public static readonly IReadOnlyList<string> All =
        [ImageSubmitted, ImageApproved, ImageRejected, JobCompleted, JobFailed, ExportReady, MemberAdded, MemberRemoved, GuidelinePublished];

    public static bool IsKnown(string? name) => name is not null && All.Contains(name);
}
