using VisionLabel.Server.Accounts;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Projects;

/// <summary>Who belongs to a project: rules the members API, project creation and dataset imports share.</summary>
public static class ProjectMembership
{
    /// <summary>Whoever creates a project owns it.</summary>
    public static ProjectMember Creator(Guid projectId, Guid userId) => new() { ProjectId = projectId, UserId = userId, Role = ProjectRole.Owner, AddedAt = DateTime.UtcNow };

    /// <summary>The projects the caller sees: their memberships, or every project for an admin.</summary>
    public static IQueryable<Project> Visible(VisionLabelDb db, Caller caller) => caller.IsAdmin ? db.Projects
        : db.Projects.Where(p => db.ProjectMembers.Any(m => m.ProjectId == p.Id && m.UserId == caller.UserId));
}
