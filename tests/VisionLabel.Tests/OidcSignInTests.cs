using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using VisionLabel.Server.Accounts;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Single sign-on through an OpenID Connect provider: a small but real one in this test process (discovery, keys,
/// authorization code with PKCE, signed ID tokens), the server in its own process configured for it, and a client that
/// follows the redirects with its cookies as a browser does.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class OidcSignInTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private WebApplication _provider = null!;
    private Process _server = null!;
    private string _url = "", _issuer = "";
    private string[] _settings = [];
    private readonly RSA _key = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, (string Nonce, string Challenge, Dictionary<string, object> Claims)> _codes = new();

    /// <summary>Who the provider says is signing in next.</summary>
    private Dictionary<string, object> _next = [];

    public async ValueTask InitializeAsync()
    {
        int port = ServeCommandTests.FreePort();
        _issuer = $"http://127.0.0.1:{port}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(_issuer);
        _provider = builder.Build();
        var signing = new SigningCredentials(new RsaSecurityKey(_key) { KeyId = "test-key" }, SecurityAlgorithms.RsaSha256);
        _provider.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = _issuer, ["authorization_endpoint"] = $"{_issuer}/authorize", ["token_endpoint"] = $"{_issuer}/token", ["jwks_uri"] = $"{_issuer}/jwks",
            ["response_types_supported"] = new[] { "code" }, ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" }, ["code_challenge_methods_supported"] = new[] { "S256" },
        }));
        _provider.MapGet("/jwks", () =>
        {
            var p = _key.ExportParameters(false);
            return Results.Json(new { keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = "test-key", n = Base64UrlEncoder.Encode(p.Modulus), e = Base64UrlEncoder.Encode(p.Exponent) } } });
        });
        // The person is already signed in at the provider: it answers at once with a code for the redirect URI.
        _provider.MapGet("/authorize", (HttpRequest r) =>
        {
            Assert.Equal("visionlabel", r.Query["client_id"]);
            Assert.Equal("S256", r.Query["code_challenge_method"]);
            string code = Guid.NewGuid().ToString("N");
            _codes[code] = (r.Query["nonce"]!, r.Query["code_challenge"]!, _next);
            return Results.Redirect($"{r.Query["redirect_uri"]}?code={code}&state={Uri.EscapeDataString(r.Query["state"]!)}");
        });
        _provider.MapPost("/token", async (HttpRequest r) =>
        {
            var form = await r.ReadFormAsync();
            if (!_codes.TryRemove(form["code"]!, out var grant)) return Results.BadRequest(new { error = "invalid_grant" });
            // PKCE: the verifier must hash to the challenge the authorize request carried.
            string challenge = Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(form["code_verifier"]!)));
            if (challenge != grant.Challenge || form["client_secret"] != "s3cret") return Results.BadRequest(new { error = "invalid_grant" });
            var claims = new Dictionary<string, object>(grant.Claims) { ["nonce"] = grant.Nonce };
            string idToken = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = _issuer, Audience = "visionlabel", Claims = claims, SigningCredentials = signing,
                IssuedAt = DateTime.UtcNow, NotBefore = DateTime.UtcNow.AddMinutes(-1), Expires = DateTime.UtcNow.AddMinutes(5),
            });
            return Results.Json(new { access_token = "opaque", token_type = "Bearer", expires_in = 300, id_token = idToken });
        });
        await _provider.StartAsync();

        _url = $"http://127.0.0.1:{ServeCommandTests.FreePort()}";
        _settings = ["--VisionLabel:Accounts:Oidc:Authority=" + _issuer, "--VisionLabel:Accounts:Oidc:ClientId=visionlabel", "--VisionLabel:Accounts:Oidc:ClientSecret=s3cret",
            "--VisionLabel:Accounts:Oidc:DisplayName=Test IdP", "--VisionLabel:Accounts:Oidc:RequireHttpsMetadata=false"];
        _server = await ServeCommandTests.Serve(_url, _data.Path, _settings);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_server.HasExited) _server.Kill(entireProcessTree: true);
        await _provider.DisposeAsync();
        _key.Dispose();
        _data.Dispose();
    }

    /// <summary>A browser-like client: follows redirects across both servers and keeps their cookies.</summary>
    private static HttpClient Browser() => new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true, MaxAutomaticRedirections = 10 });

    private async Task<(Uri Landed, AccountDto? Account)> SignInThroughProvider(HttpClient browser, string returnTo)
    {
        var response = await browser.GetAsync($"{_url}/api/account/signin/oidc?return={Uri.EscapeDataString(returnTo)}");
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} at {response.RequestMessage!.RequestUri}: {await response.Content.ReadAsStringAsync()}");
        var me = await browser.GetAsync($"{_url}/api/account");
        return (response.RequestMessage!.RequestUri!, me.IsSuccessStatusCode ? await me.Read<AccountDto>() : null);
    }

    [Fact]
    public async Task People_sign_in_through_the_provider_get_an_account_once_and_existing_accounts_are_linked_by_verified_email()
    {
        using var anonymous = new HttpClient { BaseAddress = new Uri(_url) };
        var providers = await (await anonymous.GetAsync("/api/account/providers")).Read<List<SignInProvider>>();
        Assert.Equal("Sign in with Test IdP", providers.Single().DisplayName);

        _next = new() { ["sub"] = "kim-123", ["preferred_username"] = "kim", ["email"] = "kim@example.com", ["email_verified"] = true };
        using (var browser = Browser())
        {
            var (landed, account) = await SignInThroughProvider(browser, "/account");
            Assert.True(landed.AbsolutePath == "/account", $"landed on {landed}");
            Assert.Equal(("kim", "kim@example.com", false), (account!.UserName, account.Email, account.IsAdmin));
        }
        using (var browser = Browser()) // the second time: the same account, through the link to the provider's subject
            Assert.Equal("kim", (await SignInThroughProvider(browser, "/")).Account!.UserName);

        // Someone with an account (made by an admin) signs in through the provider with the same verified e-mail.
        using var admin = TestAccounts.Client(_url, await TestAccounts.TokenAsync(_data.Path, _settings, "root"));
        await (await admin.PostJson("/api/users", new { userName = "lee", email = "lee@example.com", password = "lee-has-a-password" })).Read<UserDto>();
        _next = new() { ["sub"] = "lee-9", ["preferred_username"] = "lee.sso", ["email"] = "lee@example.com", ["email_verified"] = true };
        using (var browser = Browser())
        {
            var (landed, account) = await SignInThroughProvider(browser, "//evil.example/phish");
            Assert.Equal("lee", account!.UserName);
            Assert.Equal(new Uri(_url).Authority, landed.Authority); // never sent off-site
            Assert.Equal("/", landed.AbsolutePath);
        }
        // An unverified e-mail does not take over an account: a new one is made instead.
        _next = new() { ["sub"] = "mallory-1", ["preferred_username"] = "lee", ["email"] = "lee@example.com", ["email_verified"] = false };
        using (var browser = Browser())
            Assert.Equal("lee2", (await SignInThroughProvider(browser, "/")).Account!.UserName);

        var users = await (await admin.GetAsync("/api/users")).Read<List<UserDto>>();
        Assert.Equal(["kim", "lee", "lee2", "root"], users.Select(u => u.UserName).Order().ToArray());
    }
}
