using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Accounts;

/// <summary>The signed-in account: sign-in and out, password, personal access tokens; and the first-run setup.</summary>
public static class AccountApi
{
    /// <summary>The cookie the web app reads and echoes as the X-XSRF-TOKEN header on every change it sends.</summary>
    public const string AntiforgeryCookie = "XSRF-TOKEN";

    public static IEndpointRouteBuilder MapAccountApi(this IEndpointRouteBuilder app)
    {
        var account = app.MapGroup("/api/account").WithTags("Account").WithBodyLimit(Limits.SmallJsonBody).RequireSignedIn();
        account.MapGet("/", Me).WithDescription("Who is signed in; also sets the XSRF-TOKEN cookie the web app sends back as the X-XSRF-TOKEN header.");
        account.MapPost("/signin", SignIn).AllowAnonymousAccess().RequireRateLimiting(AccountsSetup.SignInRateLimit)
            .WithDescription("Cookie sign-in for the web app, by user name or e-mail. Five wrong passwords in a row lock the account for five minutes.");
        account.MapPost("/signout", SignOut);
        account.MapPost("/password", ChangePassword);
        account.MapGet("/tokens", ListTokens);
        account.MapPost("/tokens", CreateToken).WithDescription("A personal access token for scripts: send it as 'Authorization: Bearer TOKEN'. It is in this answer only.");
        account.MapDelete("/tokens/{tokenId:guid}", RevokeToken);

        var setup = app.MapGroup("/api/setup").WithTags("Account").WithBodyLimit(Limits.SmallJsonBody).AllowAnonymousAccess();
        setup.MapGet("/", async (Accounts accounts) => TypedResults.Ok(new SetupStatus(!await accounts.AnyAsync())));
        setup.MapPost("/", Setup).RequireRateLimiting(AccountsSetup.SignInRateLimit)
            .WithDescription("Creates the first admin with the one-time secret the server printed at its first start; then signs them in.");
        return app;
    }

    private static async Task<Ok<AccountDto>> Me(HttpContext context, UserManager<UserAccount> users, IAntiforgery antiforgery, IOptions<Projects.ProjectsOptions> projects)
    {
        var user = (await users.FindByIdAsync(context.Caller().UserId.ToString()))!;
        if (context.Caller().ViaCookie) IssueAntiforgery(context, antiforgery);
        return TypedResults.Ok(AccountDto.From(user, projects.Value));
    }

    private static void IssueAntiforgery(HttpContext context, IAntiforgery antiforgery)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        context.Response.Cookies.Append(AntiforgeryCookie, tokens.RequestToken!, new CookieOptions
        {
            HttpOnly = false, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/",
        });
    }

    private static async Task<Results<Ok<AccountDto>, ProblemHttpResult>> SignIn(SignInRequest request, Accounts accounts,
        SignInManager<UserAccount> signIn, ILoggerFactory logs, Operations.ServerMetrics metrics, IOptions<Projects.ProjectsOptions> projects, HttpContext context)
    {
        void Failed(string reason) => metrics.SignInFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));
        var log = logs.CreateLogger("VisionLabel.Accounts");
        var user = await accounts.FindAsync(request.UserName);
        if (user is null || user.DisabledAt is not null)
        {
            log.LogWarning("Failed sign-in for unknown or disabled account {UserName} from {Address}", request.UserName, context.Connection.RemoteIpAddress);
            Failed("unknown");
            return WrongPassword();
        }
        var result = await signIn.PasswordSignInAsync(user, request.Password, request.Remember, lockoutOnFailure: true);
        if (result.IsLockedOut)
        {
            log.LogWarning("Sign-in refused: {UserName} is locked out (from {Address})", user.UserName, context.Connection.RemoteIpAddress);
            Failed("locked");
            var minutes = Math.Max(1, (int)Math.Ceiling(((user.LockoutEnd ?? DateTimeOffset.UtcNow) - DateTimeOffset.UtcNow).TotalMinutes));
            return TypedResults.Problem(statusCode: 429, title: "Account locked",
                detail: $"Too many wrong passwords: this account is locked for {minutes} more minute{(minutes == 1 ? "" : "s")}. An admin can reset the password.");
        }
        if (!result.Succeeded)
        {
            log.LogWarning("Failed sign-in for {UserName} from {Address}", user.UserName, context.Connection.RemoteIpAddress);
            Failed("password");
            return WrongPassword();
        }
        log.LogInformation("{UserName} signed in from {Address}", user.UserName, context.Connection.RemoteIpAddress);
        return TypedResults.Ok(AccountDto.From(user, projects.Value));
    }

    private static ProblemHttpResult WrongPassword() =>
        TypedResults.Problem(statusCode: 401, title: "Wrong user name or password", detail: "Check both and try again; an admin can reset a forgotten password.");

    private static async Task<NoContent> SignOut(SignInManager<UserAccount> signIn)
    {
        await signIn.SignOutAsync();
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ChangePassword(ChangePasswordRequest request, HttpContext context,
        UserManager<UserAccount> users, SignInManager<UserAccount> signIn)
    {
        var user = (await users.FindByIdAsync(context.Caller().UserId.ToString()))!;
        var result = await users.ChangePasswordAsync(user, request.CurrentPassword, request.NewPassword);
        if (!result.Succeeded)
        {
            var error = result.Errors.First();
            return error.Code == "PasswordMismatch" ? Problems.Invalid("currentPassword", "the current password is wrong") : Problems.Invalid("newPassword", error.Description);
        }
        // The new security stamp ends every other session; this one continues with a fresh cookie.
        if (context.Caller().ViaCookie) await signIn.RefreshSignInAsync(user);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<List<TokenDto>>> ListTokens(HttpContext context, VisionLabelDb db, CancellationToken ct)
    {
        var userId = context.Caller().UserId;
        var rows = await db.AccessTokens.AsNoTracking().Where(t => t.UserId == userId).OrderByDescending(t => t.CreatedAt).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(TokenDto.From).ToList());
    }

    private static async Task<Results<Created<CreatedTokenDto>, ValidationProblem>> CreateToken(NewTokenRequest request, HttpContext context,
        PersonalAccessTokens tokens, VisionLabelDb db, CancellationToken ct)
    {
        var caller = context.Caller();
        if (string.IsNullOrWhiteSpace(request.Name)) return Problems.Invalid("name", "name a token after what uses it, e.g. 'training pipeline'");
        if (await db.AccessTokens.CountAsync(t => t.UserId == caller.UserId && t.RevokedAt == null, ct) >= PersonalAccessTokens.MaxPerUser)
            return Problems.Invalid("name", $"you have {PersonalAccessTokens.MaxPerUser} live tokens; revoke some first");
        // A token cannot do more than the one that creates it.
        if (caller.Scope == TokenScope.Read && request.Scope == TokenScope.Write) return Problems.Invalid("scope", "a read token cannot create a write token");
        if (request.Scope == TokenScope.Metrics && !caller.IsAdmin) return Problems.Invalid("scope", "only an admin can create a metrics token (the metrics are the whole instance's)");
        var created = await tokens.CreateAsync(caller.UserId, request.Name.Trim(), request.Scope, request.ExpiresInDays, ct);
        return TypedResults.Created($"/api/account/tokens/{created.Row.Id}", new CreatedTokenDto(TokenDto.From(created.Row), created.Token));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeToken(Guid tokenId, HttpContext context, PersonalAccessTokens tokens,
        HubConnections connections, CancellationToken ct)
    {
        if (await tokens.RevokeAsync(context.Caller().UserId, tokenId, ct) == 0) return Problems.NotFound("Token", tokenId);
        await connections.CloseEverywhereAsync(new CloseRequest(null, null, tokenId));
        return TypedResults.NoContent();
    }

    private static async Task<Results<Created<AccountDto>, ValidationProblem, ProblemHttpResult>> Setup(SetupRequest request, SetupLink link, Accounts accounts, VisionLabelDb db,
        SignInManager<UserAccount> signIn, ILoggerFactory logs)
    {
        if (!link.IsValid(request.Token))
            return TypedResults.Problem(statusCode: 403, title: "Setup link not valid",
                detail: "Use the link a server printed when it started without accounts; links expire after 24 hours, and restarting a server prints a new one.");
        var created = await link.CreateFirstAdminAsync(db, accounts, request.UserName, request.Email, request.Password);
        if (created is null) return TypedResults.Problem(statusCode: 409, title: "Already set up", detail: "Accounts exist; sign in at /signin.");
        var (user, field, problem) = created.Value;
        if (user is null) return Problems.Invalid(field!, problem!);
        logs.CreateLogger("VisionLabel.Accounts").LogWarning("First admin {UserName} created through the setup link", user.UserName);
        await signIn.SignInAsync(user, isPersistent: true);
        return TypedResults.Created("/api/account", AccountDto.From(user, new Projects.ProjectsOptions()) /* the first admin may create projects whatever the setting */);
    }
}
