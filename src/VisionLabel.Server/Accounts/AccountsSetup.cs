using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.RateLimiting;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Accounts;

/// <summary>Section "VisionLabel:Accounts".</summary>
public sealed class AccountOptions
{
    public const string Section = "VisionLabel:Accounts";

    /// <summary>Sign-in attempts per client address per minute (then 429), besides the lockout of the account.</summary>
    [Range(1, 10_000)] public int SignInAttemptsPerMinute { get; set; } = 10;
    /// <summary>Failed passwords in a row that lock an account, and for how long.</summary>
    [Range(1, 100)] public int LockoutAttempts { get; set; } = 5;
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>How long a sign-in lasts without use (sliding).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(14);
    [Range(8, 128)] public int MinimumPasswordLength { get; set; } = 10;
}

public static class AccountsSetup
{
    public const string SignInRateLimit = "sign-in";
    /// <summary>Chooses the token scheme when the request carries a token, else the sign-in cookie.</summary>
    private const string SmartScheme = "VisionLabel";

    public static IServiceCollection AddAccounts(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AccountOptions>().Bind(configuration.GetSection(AccountOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        var options = configuration.GetSection(AccountOptions.Section).Get<AccountOptions>() ?? new AccountOptions();

        services.AddIdentityCore<UserAccount>(o =>
            {
                // Length over composition rules (NIST 800-63B); lockout against guessing.
                o.Password.RequiredLength = options.MinimumPasswordLength;
                o.Password.RequireDigit = o.Password.RequireLowercase = o.Password.RequireUppercase = o.Password.RequireNonAlphanumeric = false;
                o.Password.RequiredUniqueChars = 4;
                o.Lockout.MaxFailedAccessAttempts = options.LockoutAttempts;
                o.Lockout.DefaultLockoutTimeSpan = options.LockoutDuration;
                o.Lockout.AllowedForNewUsers = true;
                o.User.AllowedUserNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._@+";
            })
            .AddSignInManager()
            .AddEntityFrameworkStores<VisionLabelDb>()
            .AddDefaultTokenProviders(); // an admin's password reset

        var authentication = services.AddAuthentication(o =>
            {
                o.DefaultScheme = SmartScheme;
                o.DefaultChallengeScheme = SmartScheme;
            })
            .AddPolicyScheme(SmartScheme, "token or cookie", o => o.ForwardDefaultSelector = context =>
                TokenAuthenticationHandler.TokenOf(context.Request) is not null ? TokenAuthenticationHandler.SchemeName : IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(TokenAuthenticationHandler.SchemeName, null);
        authentication.AddIdentityCookies();
        authentication.AddOidcSignIn(configuration);
        services.ConfigureApplicationCookie(o =>
        {
            o.Cookie.Name = "visionlabel.session";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // Secure whenever served over HTTPS (behind a TLS proxy: forward the scheme)
            o.ExpireTimeSpan = options.SessionLifetime;
            o.SlidingExpiration = true;
            // An API answers 401/403; the web app sends people to /signin itself.
            o.Events.OnRedirectToLogin = context => { context.Response.StatusCode = 401; return Task.CompletedTask; };
            o.Events.OnRedirectToAccessDenied = context => { context.Response.StatusCode = 403; return Task.CompletedTask; };
        });
        services.AddAntiforgery(o =>
        {
            o.HeaderName = AccessMiddleware.AntiforgeryHeader;
            o.Cookie.Name = "visionlabel.antiforgery";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = 429;
            o.OnRejected = async (context, ct) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "60";
                await TypedResults.Problem(statusCode: 429, title: "Too many sign-in attempts",
                    detail: "Wait a minute before trying again.").ExecuteAsync(context.HttpContext);
            };
            o.AddPolicy(SignInRateLimit, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = options.SignInAttemptsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        });

        services.AddScoped<AccessChecker>();
        services.AddSingleton<ImageProjects>();
        services.AddScoped<PersonalAccessTokens>();
        services.AddScoped<Accounts>();
        services.AddSingleton<HubConnections>();
        services.AddSingleton<HubAccessFilter>();
        services.AddSingleton<SetupLink>();
        return services;
    }

    /// <summary>Authentication, sign-in rate limits and every endpoint's access rule; after routing, before the endpoints.</summary>
    public static WebApplication UseAccounts(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseMiddleware<AccessMiddleware>();
        return app;
    }
}
