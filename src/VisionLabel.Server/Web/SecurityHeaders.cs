using Microsoft.Extensions.Options;
using VisionLabel.Server.Common;

namespace VisionLabel.Server.Web;

/// <summary>
/// Headers on every response (no MIME sniffing, no framing, no referrer to other sites), and the web app's
/// Content-Security-Policy: scripts only from this server (no inline script, no eval), images also from the object
/// store when browsers fetch them there by presigned URL, connections (REST, the hubs' WebSockets) only to this server.
/// </summary>
public static class SecurityHeaders
{
    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "same-origin";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            await next(context);
        });
        return app;
    }

    /// <summary>The app page's policy; lit sets style attributes, hence 'unsafe-inline' for styles (never for scripts).</summary>
    public static string ContentSecurityPolicy(StorageOptions storage)
    {
        string images = "'self' data: blob:";
        if (storage.Provider is "s3" or "minio" && storage.S3.PresignedUrls && (storage.S3.PublicEndpoint ?? storage.S3.Endpoint) is { Length: > 0 } host)
            images += $" {((storage.S3.PublicUseSsl ?? storage.S3.UseSsl) ? "https" : "http")}://{host}";
        return $"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src {images}; connect-src 'self'; " +
               "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
    }

    public static void AddContentSecurityPolicy(HttpContext context) =>
        context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy(context.RequestServices.GetRequiredService<IOptions<StorageOptions>>().Value);
}
