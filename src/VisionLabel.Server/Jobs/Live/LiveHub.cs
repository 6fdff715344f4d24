using Microsoft.AspNetCore.SignalR;
using VisionLabel.Server.Accounts;

namespace VisionLabel.Server.Jobs;

/// <summary>
/// Server-to-browser events at /hubs/live (JSON protocol). Clients subscribe to what they show:
/// WatchProject(id) → JobProgress and ImportProgress for the project's jobs; WatchJob(id) → JobProgress for one job.
/// Watching needs the viewer role. Every connection also receives its user's Notification events (the bell).
/// </summary>
public sealed class LiveHub : Hub
{
    public static string UserGroup(string userName) => $"user:{userName}";

    public override async Task OnConnectedAsync()
    {
        if (Context.User?.Identity?.Name is { } name) await Groups.AddToGroupAsync(Context.ConnectionId, UserGroup(name));
        await base.OnConnectedAsync();
    }

    [HubAccess(AccessLevel.Project, ProjectRole.Viewer)]
    public Task WatchProject(Guid projectId) => Groups.AddToGroupAsync(Context.ConnectionId, LiveEvents.ProjectGroup(projectId));

    [HubAccess(AccessLevel.Project, ProjectRole.Viewer)]
    public Task WatchJob(Guid jobId) => Groups.AddToGroupAsync(Context.ConnectionId, LiveEvents.JobGroup(jobId));

    /// <summary>QualityScored for the project's submissions: figures about people, for reviewers and owners only (as GET …/quality).</summary>
    [HubAccess(AccessLevel.Project, ProjectRole.Reviewer)]
    public Task WatchQuality(Guid projectId) => Groups.AddToGroupAsync(Context.ConnectionId, LiveEvents.QualityGroup(projectId));

    [HubAccess(AccessLevel.SignedIn)]
    public Task UnwatchQuality(Guid projectId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, LiveEvents.QualityGroup(projectId));

    [HubAccess(AccessLevel.SignedIn)]
    public Task UnwatchProject(Guid projectId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, LiveEvents.ProjectGroup(projectId));

    [HubAccess(AccessLevel.SignedIn)]
    public Task UnwatchJob(Guid jobId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, LiveEvents.JobGroup(jobId));
}
