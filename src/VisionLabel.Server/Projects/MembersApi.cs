using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Projects;

public sealed record MemberDto(Guid UserId, string UserName, string? Email, ProjectRole Role, DateTime AddedAt);

/// <param name="User">A user name or e-mail.</param>
public sealed record AddMemberRequest([property: Required, MaxLength(256)] string User, ProjectRole Role = ProjectRole.Annotator);

public sealed record ChangeMemberRequest(ProjectRole Role);

/// <summary>Who works on a project, and as what. Owners manage it; every member can see it.</summary>
public static class MembersApi
{
    public static IEndpointRouteBuilder MapMembersApi(this IEndpointRouteBuilder app)
    {
        var members = app.MapGroup("/api/projects/{projectId:guid}/members").WithTags("Members").WithBodyLimit(Limits.SmallJsonBody);
        members.MapGet("/", List).RequireProjectRole(ProjectRole.Viewer);
        members.MapPost("/", Add).RequireProjectRole(ProjectRole.Owner);
        members.MapPatch("/{userId:guid}", Change).RequireProjectRole(ProjectRole.Owner);
        members.MapDelete("/{userId:guid}", Remove).RequireProjectRole(ProjectRole.Owner)
            .WithDescription("Removes a member; their open hub connections to the project are closed at once.");
        return app;
    }

    private static IQueryable<MemberDto> Members(VisionLabelDb db, Guid projectId, Guid? userId = null) =>
        db.ProjectMembers.AsNoTracking().Where(m => m.ProjectId == projectId && (userId == null || m.UserId == userId))
            .Join(db.Users, m => m.UserId, u => u.Id, (m, u) => new MemberDto(u.Id, u.UserName!, u.Email, m.Role, m.AddedAt));

    private static async Task<Ok<List<MemberDto>>> List(Guid projectId, VisionLabelDb db, CancellationToken ct) =>
        TypedResults.Ok((await Members(db, projectId).ToListAsync(ct)).OrderByDescending(m => m.Role).ThenBy(m => m.UserName, StringComparer.OrdinalIgnoreCase).ToList());

    private static async Task<Results<Created<MemberDto>, ValidationProblem, ProblemHttpResult>> Add(Guid projectId, AddMemberRequest request,
        Accounts.Accounts accounts, VisionLabelDb db, Webhooks.Webhooks webhooks, CancellationToken ct)
    {
        if (!Enum.IsDefined(request.Role)) return Problems.Invalid("role", $"role is one of {ApiEnum.Names<ProjectRole>()}");
        if (await accounts.FindAsync(request.User) is not { } user)
            return Problems.Invalid("user", $"no account has the user name or e-mail '{request.User.Trim()}'; an admin can create it");
        if (await db.ProjectMembers.AnyAsync(m => m.ProjectId == projectId && m.UserId == user.Id, ct))
            return Problems.Conflict("Already a member", $"{user.UserName} is already a member; change their role instead.");
        var member = new ProjectMember { ProjectId = projectId, UserId = user.Id, Role = request.Role, AddedAt = DateTime.UtcNow };
        db.ProjectMembers.Add(member);
        await db.SaveChangesAsync(ct);
        await webhooks.RaiseAsync(projectId, Webhooks.WebhookEvents.MemberAdded, new { userId = user.Id, userName = user.UserName, role = member.Role });
        return TypedResults.Created($"/api/projects/{projectId}/members/{user.Id}", new MemberDto(user.Id, user.UserName!, user.Email, member.Role, member.AddedAt));
    }

    private static async Task<Results<Ok<MemberDto>, ValidationProblem, ProblemHttpResult>> Change(Guid projectId, Guid userId, ChangeMemberRequest request,
        VisionLabelDb db, CancellationToken ct)
    {
        if (!Enum.IsDefined(request.Role)) return Problems.Invalid("role", $"role is one of {ApiEnum.Names<ProjectRole>()}");
        var member = await db.ProjectMembers.FirstOrDefaultAsync(m => m.ProjectId == projectId && m.UserId == userId, ct);
        if (member is null) return Problems.NotFound("Member", userId);
        if (member.Role == ProjectRole.Owner && request.Role != ProjectRole.Owner && await LastOwner(db, projectId, ct))
            return Problems.Conflict("Last owner", "A project keeps at least one owner: make someone else owner first.");
        member.Role = request.Role;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(await Members(db, projectId, userId).FirstAsync(ct));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Remove(Guid projectId, Guid userId, VisionLabelDb db, HubConnections connections,
        Webhooks.Webhooks webhooks, CancellationToken ct)
    {
        var member = await db.ProjectMembers.FirstOrDefaultAsync(m => m.ProjectId == projectId && m.UserId == userId, ct);
        if (member is null) return Problems.NotFound("Member", userId);
        if (member.Role == ProjectRole.Owner && await LastOwner(db, projectId, ct))
            return Problems.Conflict("Last owner", "A project keeps at least one owner: make someone else owner first, or delete the project.");
        db.ProjectMembers.Remove(member);
        await db.SaveChangesAsync(ct);
        await connections.CloseEverywhereAsync(new CloseRequest(userId, projectId, null)); // their editors and watchers of this project stop now, on every process
        string? userName = await db.Users.Where(u => u.Id == userId).Select(u => u.UserName).FirstOrDefaultAsync(ct);
        await webhooks.RaiseAsync(projectId, Webhooks.WebhookEvents.MemberRemoved, new { userId, userName, role = member.Role });
        return TypedResults.NoContent();
    }

    private static async Task<bool> LastOwner(VisionLabelDb db, Guid projectId, CancellationToken ct) =>
        await db.ProjectMembers.CountAsync(m => m.ProjectId == projectId && m.Role == ProjectRole.Owner, ct) <= 1;
}
