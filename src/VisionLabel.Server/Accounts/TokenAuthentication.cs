using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace VisionLabel.Server.Accounts;

/// <summary>
/// Authenticates "Authorization: Bearer vlpat_…" and, on the hubs only (browsers cannot set headers on WebSockets),
/// "?access_token=vlpat_…". The principal carries the token's id, so every later check can see it was revoked.
/// </summary>
public sealed class TokenAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    PersonalAccessTokens tokens) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Token";

    /// <summary>The token a request carries, if any (used to choose this scheme over the cookie).</summary>
    public static string? TokenOf(HttpRequest request)
    {
        string? header = request.Headers.Authorization;
        if (header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header["Bearer ".Length..].Trim();
        if (request.Path.StartsWithSegments("/hubs") && request.Query["access_token"] is { Count: 1 } query) return query[0];
        return null;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? token = TokenOf(Request);
        if (token is null) return AuthenticateResult.NoResult();
        if (!PersonalAccessTokens.LooksLikeToken(token)) return AuthenticateResult.Fail("not a VisionLabel personal access token");
        if (await tokens.FindAsync(token, Context.RequestAborted) is not { } found) return AuthenticateResult.Fail("unknown, expired or revoked token");
        // Checked against the database just now: this request's access check need not read the same rows again.
        Context.Features.Set(new Caller(found.User.Id, found.User.UserName!, found.User.IsAdmin, found.Token.Scope, found.Token.Id));
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, found.User.Id.ToString()),
            new Claim(ClaimTypes.Name, found.User.UserName!),
            new Claim(AccessChecker.TokenClaim, found.Token.Id.ToString()),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = 401;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }
}
