using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;

namespace VisionLabel.Server.Common;

/// <summary>What every streamed upload endpoint does before reading its multipart body.</summary>
public static class MultipartUpload
{
    /// <summary>
    /// Gets the multipart/form-data boundary, or false when the request is not multipart. Lifts Kestrel's
    /// 30 MB body limit to <paramref name="maxRequestBytes"/> for this request only.
    /// </summary>
    public static bool TryStart(HttpContext context, long maxRequestBytes, out string boundary)
    {
        boundary = "";
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var mediaType) ||
            !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase) ||
            HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } value)
            return false;
        boundary = value;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
            sizeLimit.MaxRequestBodySize = maxRequestBytes;
        return true;
    }

    /// <summary>
    /// Documents a multipart/form-data body in the OpenAPI document only. Not <c>Accepts(...)</c>: that makes routing
    /// answer 415 for another content type before authentication runs, so an anonymous caller learned the route's
    /// body format before being told to sign in. The handler checks the content type itself (<see cref="TryStart"/>).
    /// </summary>
    public static RouteHandlerBuilder DocumentMultipart(this RouteHandlerBuilder endpoint, params string[] fileFields) =>
        endpoint.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            var properties = new Dictionary<string, IOpenApiSchema>();
            foreach (var field in fileFields) properties[field] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["multipart/form-data"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.Object, Properties = properties } },
                },
            };
            return Task.CompletedTask;
        });
}
