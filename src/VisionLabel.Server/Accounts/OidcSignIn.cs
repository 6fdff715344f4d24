using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace VisionLabel.Server.Accounts;

/// <summary>
/// Section "VisionLabel:Accounts:Oidc": sign-in through the team's identity provider (Keycloak, Entra ID, Google,
/// Authentik, …), besides passwords. Off unless Authority and ClientId are set.
/// </summary>
public sealed class OidcOptions
{
    public const string Section = "VisionLabel:Accounts:Oidc";

    /// <summary>The provider's issuer URL (its /.well-known/openid-configuration is read from there).</summary>
    public string? Authority { get; set; }
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }
    /// <summary>What the sign-in button says: "Sign in with {DisplayName}".</summary>
    [MaxLength(100)] public string DisplayName { get; set; } = "single sign-on";
    /// <summary>Create an account on first sign-in (else only people with an account, matched by verified e-mail, get in).</summary>
    public bool CreateAccounts { get; set; } = true;
    /// <summary>False only for a provider on plain http (tests, a lab network).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    public bool Enabled => !string.IsNullOrWhiteSpace(Authority) && !string.IsNullOrWhiteSpace(ClientId);
}

public sealed record SignInProvider(string Name, string DisplayName, string Url);

public static class OidcSignIn
{
    public const string Scheme = "oidc";

    public static AuthenticationBuilder AddOidcSignIn(this AuthenticationBuilder auth, IConfiguration configuration)
    {
        var options = configuration.GetSection(OidcOptions.Section).Get<OidcOptions>() ?? new OidcOptions();
        auth.Services.Configure<OidcOptions>(configuration.GetSection(OidcOptions.Section));
        if (!options.Enabled) return auth;
        return auth.AddOpenIdConnect(Scheme, options.DisplayName, o =>
        {
            o.Authority = options.Authority;
            o.ClientId = options.ClientId;
            o.ClientSecret = options.ClientSecret;
            o.RequireHttpsMetadata = options.RequireHttpsMetadata;
            o.ResponseType = "code"; // authorization code with PKCE
            o.UsePkce = true;
            o.Scope.Clear();
            foreach (var scope in new[] { "openid", "profile", "email" }) o.Scope.Add(scope);
            o.SignInScheme = IdentityConstants.ExternalScheme; // then OidcSignIn.Callback maps it to an account
            o.CallbackPath = "/signin-oidc";
            // The code comes back on the query of a top-level GET, so the correlation and nonce cookies can be Lax
            // (SameSite=None needs Secure, so HTTPS); PKCE protects the code.
            o.ResponseMode = "query";
            o.CorrelationCookie.SameSite = o.NonceCookie.SameSite = SameSiteMode.Lax;
            // Secure whenever the server is reached over HTTPS (Always would break plain-http lab set-ups).
            o.CorrelationCookie.SecurePolicy = o.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.GetClaimsFromUserInfoEndpoint = false;
        });
    }

    public static IEndpointRouteBuilder MapOidcSignIn(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/account").WithTags("Account").AllowAnonymousAccess();
        group.MapGet("/providers", (IOptions<OidcOptions> oidc) => TypedResults.Ok(oidc.Value.Enabled
            ? new List<SignInProvider> { new(Scheme, $"Sign in with {oidc.Value.DisplayName}", "/api/account/signin/oidc") } : []))
            .WithDescription("Sign-in methods besides the password: the web app shows a button for each.");
        group.MapGet("/signin/oidc", Challenge).WithDescription("Starts single sign-on; comes back to ?return= (a path of this server).");
        group.MapGet("/signin/oidc/done", Callback).ExcludeFromDescription();
        return app;
    }

    private static IResult Challenge(string? @return, IOptions<OidcOptions> oidc, SignInManager<UserAccount> signIn)
    {
        if (!oidc.Value.Enabled) return TypedResults.Problem(statusCode: 404, title: "Single sign-on is not configured", detail: "Sign in with a password at /signin.");
        // Identity's external-login properties: the callback reads the provider back from them.
        var properties = signIn.ConfigureExternalAuthenticationProperties(Scheme, $"/api/account/signin/oidc/done?return={Uri.EscapeDataString(SafeReturn(@return))}");
        return TypedResults.Challenge(properties, [Scheme]);
    }

    /// <summary>
    /// After the provider: the account linked to this provider subject signs in; else one with the same verified
    /// e-mail is linked; else (CreateAccounts) a new one is made from the provider's user name. Then the cookie, and back.
    /// </summary>
    private static async Task<IResult> Callback(string? @return, SignInManager<UserAccount> signIn, UserManager<UserAccount> users, Accounts accounts,
        IOptions<OidcOptions> oidc, ILoggerFactory logs)
    {
        var log = logs.CreateLogger("VisionLabel.Accounts");
        var info = await signIn.GetExternalLoginInfoAsync();
        if (info is null) return Fail("The identity provider's answer was missing or expired; try again.");
        var result = await signIn.ExternalLoginSignInAsync(info.LoginProvider, info.ProviderKey, isPersistent: true, bypassTwoFactor: true);
        if (!result.Succeeded)
        {
            if (result.IsLockedOut || result.IsNotAllowed) return Fail("This account cannot sign in now; ask an admin.");
            var user = await LinkOrCreateAsync(info.Principal, users, accounts, oidc.Value);
            if (user is null) return Fail("No account matches your identity here; ask an admin to create one with your e-mail.");
            if (user.DisabledAt is not null) return Fail("This account is disabled; ask an admin.");
            var added = await users.AddLoginAsync(user, info);
            if (!added.Succeeded) return Fail(added.Errors.First().Description);
            await signIn.SignInAsync(user, isPersistent: true);
            log.LogInformation("{UserName} signed in through {Provider} for the first time", user.UserName, info.LoginProvider);
        }
        await signIn.Context.SignOutAsync(IdentityConstants.ExternalScheme);
        return TypedResults.Redirect(SafeReturn(@return));
    }

    private static async Task<UserAccount?> LinkOrCreateAsync(ClaimsPrincipal principal, UserManager<UserAccount> users, Accounts accounts, OidcOptions options)
    {
        // Inbound claims are mapped (sub → NameIdentifier, email → ClaimTypes.Email), as Identity's external login expects.
        string? email = principal.FindFirstValue(ClaimTypes.Email) ?? principal.FindFirstValue("email");
        bool verified = string.Equals(principal.FindFirstValue("email_verified"), "true", StringComparison.OrdinalIgnoreCase);
        if (email is not null && verified && await users.FindByEmailAsync(email) is { } existing) return existing;
        if (!options.CreateAccounts) return null;
        string name = Clean(principal.FindFirstValue("preferred_username") ?? email?.Split('@')[0] ?? principal.FindFirstValue(ClaimTypes.NameIdentifier) ?? "user");
        for (int i = 0; i < 100; i++)
        {
            string candidate = i == 0 ? name : $"{name}{i + 1}";
            if (await accounts.FindAsync(candidate) is not null) continue;
            // No password: this account signs in through the provider (an admin can set one later).
            var user = new UserAccount { Id = Data.MonotonicGuid.Next(), UserName = candidate, Email = verified ? email : null, CreatedAt = DateTime.UtcNow };
            return (await users.CreateAsync(user)).Succeeded ? user : null;
        }
        return null;
    }

    private static string Clean(string name)
    {
        var kept = new string(name.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '@' or '+').ToArray());
        return kept.Length == 0 ? "user" : kept[..Math.Min(kept.Length, 100)];
    }

    /// <summary>Only paths of this server: an open redirect would let a phishing link bounce through us.</summary>
    private static string SafeReturn(string? path) => path is { Length: > 0 } && path.StartsWith('/') && !path.StartsWith("//") && !path.StartsWith("/\\") ? path : "/";

    private static IResult Fail(string detail) => TypedResults.Redirect($"/signin?error={Uri.EscapeDataString(detail)}");
}
