using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Accounts;

/// <summary>
/// Headless set-ups: `visionlabel users add NAME [--admin] [--email E] [--password-stdin]`,
/// `visionlabel tokens create --user NAME [--scope read|write] [--expires DAYS] [--name TEXT]` (the token alone on stdout)
/// and `visionlabel tokens revoke --user NAME (--all | --id ID)`. They work on the same data directory (or configured
/// database) as `serve`, also while it runs: a revoked token is refused on its next request.
/// </summary>
public static class AccountCommands
{
    public static IEnumerable<Command> Create()
    {
        var data = new Option<string?>("--data") { Description = "Data directory, as for serve (default ./data)" };

        var name = new Argument<string>("name") { Description = "User name" };
        var admin = new Option<bool>("--admin") { Description = "An instance admin (manages users, sees every project)" };
        var email = new Option<string?>("--email") { Description = "E-mail (people can sign in with it too)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of stdin (else one is generated and printed)" };
        var add = new Command("add", "Create an account") { name, admin, email, passwordStdin, data };
        add.TreatUnmatchedTokensAsErrors = false;
        add.SetAction(async (parse, ct) => await AddUserAsync(parse.GetValue(name)!, parse.GetValue(email), parse.GetValue(admin), parse.GetValue(passwordStdin),
            CommandHost.Args(parse.GetValue(data), parse.UnmatchedTokens)));
        var users = new Command("users", "Manage accounts") { add };

        var user = new Option<string>("--user") { Description = "Whose token (user name or e-mail)", Required = true };
        var scope = new Option<string>("--scope") { Description = "read (default) or write", DefaultValueFactory = _ => "read" };
        var expires = new Option<int?>("--expires") { Description = "Days until it expires (default: never)" };
        var tokenName = new Option<string?>("--name") { Description = "What the token is for (default: cli)" };
        var create = new Command("create", "Create a personal access token; prints it alone on stdout") { user, scope, expires, tokenName, data };
        create.TreatUnmatchedTokensAsErrors = false;
        create.SetAction(async (parse, ct) => await CreateTokenAsync(parse.GetValue(user)!, parse.GetValue(scope)!, parse.GetValue(expires), parse.GetValue(tokenName),
            CommandHost.Args(parse.GetValue(data), parse.UnmatchedTokens), ct));

        var all = new Option<bool>("--all") { Description = "Revoke every token of the user" };
        var id = new Option<Guid?>("--id") { Description = "Revoke this token" };
        var revoke = new Command("revoke", "Revoke tokens; they are refused at once, also by a running server") { user, all, id, data };
        revoke.TreatUnmatchedTokensAsErrors = false;
        revoke.SetAction(async (parse, ct) => await RevokeAsync(parse.GetValue(user)!, parse.GetValue(all), parse.GetValue(id),
            CommandHost.Args(parse.GetValue(data), parse.UnmatchedTokens), ct));
        var tokens = new Command("tokens", "Manage personal access tokens") { create, revoke };
        return [users, tokens];
    }

    private static async Task<int> AddUserAsync(string userName, string? email, bool admin, bool passwordStdin, string[] hostArgs)
    {
        string? password = passwordStdin ? Console.In.ReadLine() : null;
        bool generated = password is null;
        password ??= Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(15));
        await using var app = await CommandHost.OpenAsync(hostArgs);
        await using var scope = app.Services.CreateAsyncScope();
        var (user, field, problem) = await scope.ServiceProvider.GetRequiredService<Accounts>().CreateAsync(userName, email, password, admin);
        if (user is null) return CommandHost.Fail($"{field}: {problem}");
        Console.Error.WriteLine($"Created {(admin ? "admin " : "")}account {user.UserName} ({user.Id})");
        if (generated) Console.WriteLine(password); // the only time it is shown
        return 0;
    }

    private static async Task<int> CreateTokenAsync(string userName, string scopeText, int? expires, string? name, string[] hostArgs, CancellationToken ct)
    {
        if (!Enum.TryParse<TokenScope>(scopeText, ignoreCase: true, out var scope) || !Enum.IsDefined(scope)) return CommandHost.Fail($"--scope is read or write, not '{scopeText}'");
        if (expires is < 1 or > 3650) return CommandHost.Fail("--expires is 1 to 3650 days");
        await using var app = await CommandHost.OpenAsync(hostArgs);
        await using var services = app.Services.CreateAsyncScope();
        var user = await services.ServiceProvider.GetRequiredService<Accounts>().FindAsync(userName);
        if (user is null) return CommandHost.Fail($"no account '{userName}'; create it with: visionlabel users add {userName}");
        var created = await services.ServiceProvider.GetRequiredService<PersonalAccessTokens>().CreateAsync(user.Id, name ?? "cli", scope, expires, ct);
        Console.Error.WriteLine($"Created {scope.ToString().ToLowerInvariant()} token {created.Row.Id} for {user.UserName}" +
                                (created.Row.ExpiresAt is { } at ? $", expires {at:yyyy-MM-dd HH:mm} UTC" : ", no expiry") + "; it is shown only now:");
        Console.WriteLine(created.Token);
        return 0;
    }

    private static async Task<int> RevokeAsync(string userName, bool all, Guid? id, string[] hostArgs, CancellationToken ct)
    {
        if (all == (id is not null)) return CommandHost.Fail("give --all or --id ID");
        await using var app = await CommandHost.OpenAsync(hostArgs);
        await using var services = app.Services.CreateAsyncScope();
        var user = await services.ServiceProvider.GetRequiredService<Accounts>().FindAsync(userName);
        if (user is null) return CommandHost.Fail($"no account '{userName}'");
        int revoked = await services.ServiceProvider.GetRequiredService<PersonalAccessTokens>().RevokeAsync(user.Id, id, ct);
        Console.Error.WriteLine($"Revoked {revoked} token{(revoked == 1 ? "" : "s")} of {user.UserName}");
        return id is not null && revoked == 0 ? CommandHost.Fail($"{user.UserName} has no live token {id}") : 0;
    }
}
