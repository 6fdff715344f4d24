using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Accounts;

/// <summary>Creating and changing accounts, for the API, the first-run setup and the CLI alike.</summary>
public sealed class Accounts(UserManager<UserAccount> users, VisionLabelDb db)
{
    /// <summary>Creates an account; the problem (field, message) when the name, e-mail or password is not acceptable.</summary>
    public async Task<(UserAccount? User, string? Field, string? Problem)> CreateAsync(string userName, string? email, string password, bool isAdmin)
    {
        userName = userName.Trim();
        if (userName.Length is 0 or > Limits.Name) return (null, "userName", $"a user name has 1 to {Limits.Name} characters");
        if (await FindAsync(userName) is not null) return (null, "userName", $"the user name '{userName}' is taken");
        email = string.IsNullOrWhiteSpace(email) ? null : email.Trim();
        if (email is not null && await users.FindByEmailAsync(email) is not null) return (null, "email", $"another account has the e-mail {email}");
        var user = new UserAccount { Id = MonotonicGuid.Next(), UserName = userName, Email = email, IsAdmin = isAdmin, CreatedAt = DateTime.UtcNow };
        var result = await users.CreateAsync(user, password);
        if (!result.Succeeded)
        {
            var error = result.Errors.First();
            string field = error.Code.Contains("Password", StringComparison.Ordinal) ? "password" : error.Code.Contains("Email", StringComparison.Ordinal) ? "email" : "userName";
            return (null, field, error.Description);
        }
        return (user, null, null);
    }

    /// <summary>By user name, else by e-mail (people type either).</summary>
    public async Task<UserAccount?> FindAsync(string nameOrEmail)
    {
        nameOrEmail = nameOrEmail.Trim();
        if (nameOrEmail.Length is 0 or > 256) return null;
        return await users.FindByNameAsync(nameOrEmail) ?? (nameOrEmail.Contains('@') ? await users.FindByEmailAsync(nameOrEmail) : null);
    }

    public Task<bool> AnyAsync(CancellationToken ct = default) => db.Users.AnyAsync(ct);
}
