using VisionLabel.Server.Accounts;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace VisionLabel.Server.Web;

/// <summary>Section "VisionLabel:Web".</summary>
public sealed class WebOptions
{
    public const string Section = "VisionLabel:Web";

    /// <summary>The built browser app (web/dist). Default: the first web/dist with an index.html above the server's binaries.</summary>
    public string? Root { get; set; }
}

/// <summary>
/// Serves the browser app: hashed assets under /assets with a year of immutable caching, and index.html (never
/// cached, so a new build is picked up at once) for the app's routes, so deep links survive a reload. When the app is
/// not built, those routes answer a page that says how to build it.
/// </summary>
public static class WebApp
{
    /// <summary>The app's client-side routes: everything else stays the API's (a 404 there is a ProblemDetails).</summary>
    private static readonly string[] Routes = ["/", "/projects/{projectId:guid}", "/projects/{projectId:guid}/work", "/projects/{projectId:guid}/quality", "/projects/{projectId:guid}/guidelines", "/projects/{projectId:guid}/people", "/projects/{projectId:guid}/health", "/projects/{projectId:guid}/models", "/projects/{projectId:guid}/comparisons", "/projects/{projectId:guid}/webhooks", "/projects/{projectId:guid}/comparisons/{comparisonId:guid}/judge", "/images/{imageId:guid}", "/signin", "/setup", "/account", "/admin"];

    public static IServiceCollection AddWebApp(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<WebOptions>(configuration.GetSection(WebOptions.Section));
        return services;
    }

    public static WebApplication MapWebApp(this WebApplication app)
    {
        string? root = ResolveRoot(app.Services.GetRequiredService<IOptions<WebOptions>>().Value);
        if (root is not null)
        {
            app.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = new PhysicalFileProvider(root),
                OnPrepareResponse = ctx =>
                {
                    // Vite names assets by content hash: the same URL always means the same bytes.
                    ctx.Context.Response.Headers.CacheControl = ctx.Context.Request.Path.StartsWithSegments("/assets")
                        ? "public, max-age=31536000, immutable" : "no-cache";
                },
            });
        }
        else app.Logger.LogWarning("The web app is not built (no web/dist/index.html); run ./visionlabel serve, which builds it, or npm ci && npm run build in web/");

        foreach (var route in Routes)
            app.MapGet(route, (HttpContext context) => IndexPage(context, root)).ExcludeFromDescription()
                .AllowAnonymousAccess(); // the app's shell; what it shows comes from the API, which checks access
        // Any other GET of a page path that no endpoint took (not a file, not under /api, /hubs, /openapi, /hangfire):
        // the app with status 404, so a reload of a mistyped or stale link shows the app's own not-found page with its
        // way back. Middleware after routing rather than a fallback route: a fallback would also win a GET of an API
        // route that takes only POST, turning its 405 into a 404. (There the endpoint routing made up answers 405.)
        app.Use(async (context, next) =>
        {
            if (context.GetEndpoint() is null && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)) && IsPage(context.Request.Path))
            {
                await NotFoundPage(context, root).ExecuteAsync(context);
                return;
            }
            await next(context);
        });
        return app;
    }

    private static bool IsPage(PathString path) =>
        !path.StartsWithSegments("/api") && !path.StartsWithSegments("/hubs") && !path.StartsWithSegments("/openapi") &&
        !path.StartsWithSegments("/hangfire") && !Path.HasExtension(path.Value);

    private static IResult NotFoundPage(HttpContext context, string? root)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return IndexPage(context, root);
    }

    private static IResult IndexPage(HttpContext context, string? root)
    {
        context.Response.Headers.CacheControl = "no-cache";
        SecurityHeaders.AddContentSecurityPolicy(context);
        string? index = root is null ? null : Path.Combine(root, "index.html");
        if (index is not null && File.Exists(index)) return TypedResults.PhysicalFile(index, "text/html; charset=utf-8");
        return TypedResults.Content("""
            <!doctype html><html lang="en"><meta charset="utf-8"><title>VisionLabel</title>
            <body style="font-family: system-ui; margin: 3rem"><h1>VisionLabel</h1>
            <p>The web app is not built. <code>./visionlabel serve</code> builds it; or run <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>.</p>
            <p>The API is at <a href="/openapi/v1.json">/openapi/v1.json</a>.</p></body></html>
            """, "text/html; charset=utf-8");
    }

    private static string? ResolveRoot(WebOptions options)
    {
        if (options.Root is { Length: > 0 } configured)
            return File.Exists(Path.Combine(configured, "index.html")) ? Path.GetFullPath(configured) : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "web", "dist");
            if (File.Exists(Path.Combine(candidate, "index.html"))) return candidate;
        }
        return null;
    }
}
