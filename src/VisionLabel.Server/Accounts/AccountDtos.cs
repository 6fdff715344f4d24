using System.ComponentModel.DataAnnotations;
using VisionLabel.Server.Common;

namespace VisionLabel.Server.Accounts;

/// <param name="CanCreateProjects">Whether this account may create projects (VisionLabel:Projects:Creators).</param>
public sealed record AccountDto(Guid Id, string UserName, string? Email, bool IsAdmin, bool CanCreateProjects)
{
    public static AccountDto From(UserAccount u, Projects.ProjectsOptions projects) => new(u.Id, u.UserName!, u.Email, u.IsAdmin, u.IsAdmin || !projects.AdminsOnly);
}

public sealed record UserDto(Guid Id, string UserName, string? Email, bool IsAdmin, bool Disabled, DateTime CreatedAt)
{
    public static UserDto From(UserAccount u) => new(u.Id, u.UserName!, u.Email, u.IsAdmin, u.DisabledAt is not null, u.CreatedAt);
}

/// <param name="UserName">The user name or the account's e-mail.</param>
public sealed record SignInRequest([property: Required, MaxLength(256)] string UserName, [property: Required, MaxLength(1024)] string Password, bool Remember = true);

public sealed record ChangePasswordRequest([property: Required, MaxLength(1024)] string CurrentPassword, [property: Required, MaxLength(1024)] string NewPassword);

public sealed record SetupStatus(bool Required);

public sealed record SetupRequest([property: Required, MaxLength(1000)] string Token, [property: Required, MaxLength(Limits.Name)] string UserName,
    [property: Required, MaxLength(1024)] string Password, [property: MaxLength(256), EmailAddress] string? Email = null);

public sealed record NewUserRequest([property: Required, MaxLength(Limits.Name)] string UserName, [property: Required, MaxLength(1024)] string Password,
    [property: MaxLength(256), EmailAddress] string? Email = null, bool IsAdmin = false);

/// <summary>Only what is given changes. Disabling ends the account's sessions and hub connections at once.</summary>
public sealed record UpdateUserRequest(bool? IsAdmin = null, bool? Disabled = null, [property: MaxLength(1024)] string? Password = null);

/// <param name="ExpiresInDays">Days until it stops working; none for a token that does not expire.</param>
public sealed record NewTokenRequest([property: Required, MaxLength(Limits.Name)] string Name, TokenScope Scope = TokenScope.Read,
    [property: Range(1, 3650)] int? ExpiresInDays = null);

public sealed record TokenDto(Guid Id, string Name, TokenScope Scope, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? RevokedAt, DateTime? LastUsedAt)
{
    public static TokenDto From(AccessToken t) => new(t.Id, t.Name, t.Scope, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt);
}

/// <summary>A new token: <see cref="Token"/> is shown this once and cannot be read again.</summary>
public sealed record CreatedTokenDto(TokenDto Info, string Token);
