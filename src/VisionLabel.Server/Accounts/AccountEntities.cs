using Microsoft.AspNetCore.Identity;

namespace VisionLabel.Server.Accounts;

/// <summary>A person or a service account. Identity keeps the password hash, lockout and security stamp.</summary>
public sealed class UserAccount : IdentityUser<Guid>
{
    /// <summary>Instance admins manage users and see every project (as its owner) and the jobs dashboard.</summary>
    public bool IsAdmin { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>Set by an admin: the account can neither sign in nor use its tokens, and its sessions end at once.</summary>
    public DateTime? DisabledAt { get; set; }
}

/// <summary>What a personal access token may do: read (GET and watching) or everything its user may.</summary>
/// <summary>Read: GET only. Write: everything the account may do. Metrics: /metrics only (for a Prometheus scraper; admins create them).</summary>
public enum TokenScope { Read, Write, Metrics }

/// <summary>
/// A personal access token for scripts, the CLI and ML pipelines. Only the SHA-256 of the secret is stored: the
/// token is shown once, when it is created. Revoked or expired tokens are refused on the next request.
/// </summary>
public sealed class AccessToken
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public required string Name { get; set; }
    /// <summary>Lower-case hex SHA-256 of the whole token string.</summary>
    public required string Hash { get; set; }
    public TokenScope Scope { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
}

/// <summary>A user's role in one project. Each role has the rights of the ones below it.</summary>
public enum ProjectRole { Viewer = 1, Annotator = 2, Reviewer = 3, Owner = 4 }

public sealed class ProjectMember
{
    public Guid ProjectId { get; set; }
    public Guid UserId { get; set; }
    public ProjectRole Role { get; set; }
    public DateTime AddedAt { get; set; }
}
