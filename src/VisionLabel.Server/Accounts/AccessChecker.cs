using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Accounts;

/// <summary>The signed-in account behind a request or hub call, as the database says it is now.</summary>
public sealed record Caller(Guid UserId, string UserName, bool IsAdmin, TokenScope Scope, Guid? TokenId)
{
    public bool ViaCookie => TokenId is null;
}

/// <summary>The outcome of an access check: allowed (with the caller's role in the project, if any), or a refusal to report.</summary>
public sealed record AccessDecision(int Status, string? Title, string? Detail, Caller? Caller, ProjectRole? Role, Guid? ProjectId)
{
    public bool Allowed => Status == 0;
    public static AccessDecision Allow(Caller? caller, ProjectRole? role = null, Guid? projectId = null) => new(0, null, null, caller, role, projectId);
    public static AccessDecision Refuse(int status, string title, string detail) => new(status, title, detail, null, null, null);
}

/// <summary>
/// Decides access for REST requests and hub calls alike, from the database on every check: a revoked token, a
/// disabled account, a changed password (new security stamp) or a removed membership is refused at once, also when the
/// change was made by another process (the CLI). A project the caller is not a member of answers 404, as if it did not
/// exist; a member without the role gets 403 naming the role needed.
/// </summary>
public sealed class AccessChecker(VisionLabelDb db, IOptions<IdentityOptions> identity, ImageProjects imageProjects)
{
    public const string TokenClaim = "visionlabel:token";

    public async Task<Caller?> CallerAsync(ClaimsPrincipal? principal, CancellationToken ct)
    {
        if (principal?.Identity?.IsAuthenticated != true || !Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var userId)) return null;
        Guid? tokenId = Guid.TryParse(principal.FindFirstValue(TokenClaim), out var t) ? t : null;
        var now = DateTime.UtcNow;
        var row = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new
            {
                u.UserName, u.IsAdmin, u.SecurityStamp, u.DisabledAt,
                Token = db.AccessTokens.Where(k => k.Id == tokenId && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now))
                    .Select(k => (TokenScope?)k.Scope).FirstOrDefault(),
            }).FirstOrDefaultAsync(ct);
        if (row is null || row.DisabledAt is not null) return null;
        if (tokenId is not null)
        {
            if (row.Token is not { } scope) return null;
            return new Caller(userId, row.UserName!, row.IsAdmin, scope, tokenId);
        }
        // A cookie is good only while the account's security stamp is the one it was issued with (sign-out everywhere,
        // a password change and an admin's reset all change it).
        if (principal.FindFirstValue(identity.Value.ClaimsIdentity.SecurityStampClaimType) != row.SecurityStamp) return null;
        return new Caller(userId, row.UserName!, row.IsAdmin, TokenScope.Write, null);
    }

    /// <summary>Checks <paramref name="rule"/> for <paramref name="principal"/>; the project comes from one of the ids given.</summary>
    /// <param name="known">The caller as this request's authentication already read it from the database, if it did.</param>
    public async Task<AccessDecision> CheckAsync(ClaimsPrincipal? principal, AccessRule rule, bool writes, ResourceIds ids, CancellationToken ct, Caller? known = null)
    {
        var caller = known ?? await CallerAsync(principal, ct);
        if (rule.Level == AccessLevel.Anonymous) return AccessDecision.Allow(caller);
        if (caller is null)
            return AccessDecision.Refuse(401, "Sign-in required",
                "Sign in at /signin, or send a personal access token as 'Authorization: Bearer TOKEN' (an expired or revoked token is refused).");
        // A scraper's token reads the metrics and nothing else: leaked from a monitoring system, it opens no project.
        if (caller.Scope == TokenScope.Metrics && rule.Level != AccessLevel.Metrics)
            return AccessDecision.Refuse(403, "Metrics token", "This token has the metrics scope: it reads /metrics only. Use a read or write token for the API.");
        if (writes && caller.Scope == TokenScope.Read)
            return AccessDecision.Refuse(403, "Read-only token", "This token has the read scope; create a token with the write scope to change things.");
        switch (rule.Level)
        {
            case AccessLevel.SignedIn: return AccessDecision.Allow(caller);
            case AccessLevel.Metrics:
                return caller.IsAdmin || caller.Scope == TokenScope.Metrics ? AccessDecision.Allow(caller)
                    : AccessDecision.Refuse(403, "Admins only", "Only an instance admin, or a token with the metrics scope (an admin creates one), may read the metrics.");
            case AccessLevel.Admin:
                return caller.IsAdmin ? AccessDecision.Allow(caller) : AccessDecision.Refuse(403, "Admins only", "Only an instance admin may do this.");
        }
        if (ids is { ProjectId: null, ImageId: null, JobId: null })
            return AccessDecision.Refuse(400, "No project named", "This call must name the project, image or job it is about.");
        var (projectId, what, id, replicaOwner) = await ProjectOfAsync(ids, ct);
        if (projectId is null) return AccessDecision.Refuse(404, $"{what} not found", $"No {what.ToLowerInvariant()} has id {id}.");
        var role = await RoleAsync(db, caller, projectId.Value, ct);
        // Not a member: the same answer as for an id that does not exist, so ids of other projects reveal nothing.
        if (role is null) return AccessDecision.Refuse(404, $"{what} not found", $"No {what.ToLowerInvariant()} has id {id}.");
        // Someone's private copy (a consensus share, a honeypot): theirs alone below the reviewer role, and as invisible
        // to other annotators as another project's image.
        if (replicaOwner is not null && replicaOwner != caller.UserName && role < ProjectRole.Reviewer)
            return AccessDecision.Refuse(404, $"{what} not found", $"No {what.ToLowerInvariant()} has id {id}.");
        if (role < rule.Role)
            return AccessDecision.Refuse(403, $"{rule.Role} role required",
                $"You are {Article(role.Value)} in this project; this needs the {rule.Role.ToString().ToLowerInvariant()} role or higher. A project owner can change your role.");
        return AccessDecision.Allow(caller, role, projectId);
    }

    /// <summary>The caller's role in the project (admins act as owners), or null for a non-member.</summary>
    public static async Task<ProjectRole?> RoleAsync(VisionLabelDb db, Caller caller, Guid projectId, CancellationToken ct) => caller.IsAdmin ? ProjectRole.Owner
        : await db.ProjectMembers.AsNoTracking().Where(m => m.ProjectId == projectId && m.UserId == caller.UserId).Select(m => (ProjectRole?)m.Role).FirstOrDefaultAsync(ct);

    private static string Article(ProjectRole role) => role is ProjectRole.Annotator or ProjectRole.Owner ? $"an {role.ToString().ToLowerInvariant()}" : $"a {role.ToString().ToLowerInvariant()}";

    private async Task<(Guid? ProjectId, string What, Guid Id, string? ReplicaOwner)> ProjectOfAsync(ResourceIds ids, CancellationToken ct)
    {
        if (ids.ProjectId is { } p) return (await db.Projects.AnyAsync(x => x.Id == p, ct) ? p : null, "Project", p, null);
        if (ids.ImageId is { } i)
        {
            // Every live edit names its image: remember which project each belongs to, and whose copy it is (neither changes).
            if (imageProjects.TryGet(i, out var known)) return (known.ProjectId, "Image", i, known.ReplicaOwner);
            var found = await db.Images.IgnoreQueryFilters().Where(x => x.Id == i).Select(x => new { x.ProjectId, x.ReplicaOwner }).FirstOrDefaultAsync(ct);
            if (found is not null) imageProjects.Add(i, (found.ProjectId, found.ReplicaOwner));
            return (found?.ProjectId, "Image", i, found?.ReplicaOwner);
        }
        if (ids.JobId is { } j) return (await db.Jobs.Where(x => x.Id == j).Select(x => (Guid?)x.ProjectId).FirstOrDefaultAsync(ct), "Job", j, null);
        throw new ArgumentException("no project, image or job id", nameof(ids));
    }
}

/// <summary>The ids a request or hub call names, from which its project is found (the first present wins).</summary>
public readonly record struct ResourceIds(Guid? ProjectId, Guid? ImageId, Guid? JobId);

/// <summary>
/// Which project each image belongs to, for access checks: an image never moves, so an entry never goes stale (a
/// deleted image's entry only lets the check pass to the endpoint, which then says the image is not there). Bounded:
/// emptied when full.
/// </summary>
public sealed class ImageProjects
{
    private const int Capacity = 200_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, (Guid, string?)> _projects = new();

    public bool TryGet(Guid imageId, out (Guid ProjectId, string? ReplicaOwner) entry) => _projects.TryGetValue(imageId, out entry);

    public void Add(Guid imageId, (Guid ProjectId, string? ReplicaOwner) entry)
    {
        if (_projects.Count >= Capacity) _projects.Clear();
        _projects[imageId] = entry;
    }
}
