using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server.Accounts;

namespace VisionLabel.Tests.Support;

/// <summary>Accounts and tokens for tests, made through the server's own account services (as the CLI does).</summary>
public static class TestAccounts
{
    /// <summary>Every test account's password.</summary>
    public const string Password = "test-password-for-everyone";

    /// <summary>Makes sure the account exists (with this admin flag) and returns a new token for it.</summary>
    public static async Task<string> TokenAsync(IServiceProvider services, string user, bool admin = true, TokenScope scope = TokenScope.Write, int? expiresInDays = null)
    {
        await using var scope_ = services.CreateAsyncScope();
        var accounts = scope_.ServiceProvider.GetRequiredService<Accounts>();
        var account = await accounts.FindAsync(user);
        if (account is null)
        {
            var (created, field, problem) = await accounts.CreateAsync(user, null, Password, admin);
            account = created ?? throw new InvalidOperationException($"test account {user}: {field}: {problem}");
        }
        else if (account.IsAdmin != admin)
        {
            var users = scope_.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<UserAccount>>();
            account.IsAdmin = admin;
            await users.UpdateAsync(account);
        }
        var token = await scope_.ServiceProvider.GetRequiredService<PersonalAccessTokens>().CreateAsync(account.Id, "test", scope, expiresInDays);
        return token.Token;
    }

    /// <summary>
    /// Accounts and a token each for a server running in its own process, made in one go on its data directory and
    /// settings (as `visionlabel users add` and `tokens create` do); admins unless <paramref name="admin"/> is false.
    /// </summary>
    public static async Task<Dictionary<string, string>> TokensAsync(string data, IEnumerable<string> settings, bool admin, params string[] users)
    {
        await using var host = await VisionLabel.Server.Common.CommandHost.OpenAsync(VisionLabel.Server.Common.CommandHost.Args(data, settings.ToList()));
        var tokens = new Dictionary<string, string>();
        foreach (var user in users) tokens[user] = await TokenAsync(host.Services, user, admin);
        return tokens;
    }

    public static async Task<string> TokenAsync(string data, IEnumerable<string> settings, string user = "tester", bool admin = true) =>
        (await TokensAsync(data, settings, admin, user))[user];

    /// <summary>Admin accounts for a server in its own process (people in browser tests sign in as them); the first one's token.</summary>
    public static async Task<string> ProvisionAsync(string data, IEnumerable<string> settings, params string[] users) =>
        (await TokensAsync(data, settings, true, users))[users[0]];

    public static HttpClient Client(string url, string token)
    {
        var client = new HttpClient { BaseAddress = new Uri(url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
