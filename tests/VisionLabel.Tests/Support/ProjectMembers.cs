using System.Collections.Concurrent;

namespace VisionLabel.Tests.Support;

/// <summary>
/// Test users as members of projects, added through the owner's API client on first use, and their hub paths: tests act
/// as project members with the role they need, never as instance admins (who would pass every access check).
/// </summary>
public sealed class ProjectMembers(VisionLabelApp app, HttpClient owner)
{
    private readonly ConcurrentDictionary<(Guid Project, string User), Lazy<Task>> _added = new();

    public async Task<string> HubPathAsync(string hub, Guid projectId, string user, string role = "annotator")
    {
        await _added.GetOrAdd((projectId, user), key => new Lazy<Task>(async () =>
        {
            app.Token(key.User, admin: false); // the account exists before it is added
            var added = await owner.PostJson($"/api/projects/{key.Project}/members", new { user = key.User, role });
            Assert.True(added.IsSuccessStatusCode, $"adding {key.User} as {role}: {(int)added.StatusCode} {await added.Content.ReadAsStringAsync()}");
        })).Value;
        return app.HubPath(hub, user, admin: false);
    }
}
