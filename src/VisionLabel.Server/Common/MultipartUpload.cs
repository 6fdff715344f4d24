using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

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
}
