using Microsoft.AspNetCore.Antiforgery;

namespace VisionLabel.Server.Accounts;

/// <summary>
/// Enforces each endpoint's <see cref="AccessRule"/> before it runs. An endpoint without a rule is refused (fail
/// closed). Cookie-authenticated requests that change things must carry the antiforgery header (the web app sends it)
/// and, when the browser says where they come from, come from this origin; token requests are not cookie-borne and
/// need neither.
/// </summary>
public sealed class AccessMiddleware(RequestDelegate next, ILogger<AccessMiddleware> log)
{
    public const string AntiforgeryHeader = "X-XSRF-TOKEN";

    public async Task InvokeAsync(HttpContext context, AccessChecker checker, IAntiforgery antiforgery)
    {
        var endpoint = context.GetEndpoint();
        // No endpoint (static files, 404s) or one routing made up to answer 405 or 415: nothing of ours runs.
        if (endpoint is not RouteEndpoint) { await next(context); return; }
        var rule = endpoint.Metadata.GetMetadata<AccessRule>();
        if (rule is null)
        {
            log.LogError("Endpoint {Endpoint} declares no access rule; refused", endpoint.DisplayName);
            await Refuse(context, 403, "Not allowed", "This endpoint declares no access rule, so nobody may call it.");
            return;
        }
        bool writes = rule.WritesFor(context.Request.Method);
        var decision = await checker.CheckAsync(context.User, rule, writes, IdsOf(context), context.RequestAborted, context.Features.Get<Caller>());
        if (!decision.Allowed)
        {
            if (decision.Status == 401) context.Response.Headers.WWWAuthenticate = "Bearer";
            await Refuse(context, decision.Status, decision.Title!, decision.Detail!);
            return;
        }
        if (decision.Caller is { ViaCookie: true } && rule.Level != AccessLevel.Anonymous)
        {
            // Also for reads and hub connections: another site's page must not open a WebSocket with this user's cookie.
            if (!SameOrigin(context))
            {
                await Refuse(context, 403, "Cross-origin request refused", "Requests signed in with the cookie must come from this server's own pages.");
                return;
            }
            if (writes && !await antiforgery.IsRequestValidAsync(context))
            {
                await Refuse(context, 400, "Antiforgery token missing or invalid",
                    $"Send the {AntiforgeryHeader} header with the value of the XSRF-TOKEN cookie (GET /api/account sets it); reload the page if it expired.");
                return;
            }
        }
        context.Features.Set(decision);
        await next(context);
    }

    private static ResourceIds IdsOf(HttpContext context)
    {
        var values = context.Request.RouteValues;
        return new(Id(values, "projectId"), Id(values, "imageId"), Id(values, "jobId"));
        static Guid? Id(RouteValueDictionary values, string key) => values.TryGetValue(key, out var v) && Guid.TryParse(v?.ToString(), out var g) ? g : null;
    }

    private static bool SameOrigin(HttpContext context)
    {
        string? origin = context.Request.Headers.Origin;
        if (string.IsNullOrEmpty(origin)) return true; // not a browser's cross-site request (browsers send Origin on those)
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri) && string.Equals(uri.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private static Task Refuse(HttpContext context, int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
}

public static class AccessDecisions
{
    /// <summary>The access decision for this request (set by AccessMiddleware): the caller and, on project endpoints, their role.</summary>
    public static AccessDecision Access(this HttpContext context) =>
        context.Features.Get<AccessDecision>() ?? throw new InvalidOperationException("no access decision: AccessMiddleware did not run");

    public static Caller Caller(this HttpContext context) =>
        context.Access().Caller ?? throw new InvalidOperationException("an anonymous endpoint asked for the caller");
}
