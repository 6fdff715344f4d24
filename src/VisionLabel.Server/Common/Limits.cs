namespace VisionLabel.Server.Common;

/// <summary>
/// Size limits on what clients send, in one place: every list and text has a bound, so no request can ask the
/// database for more than it can answer (and the 400 says which bound was passed).
/// </summary>
public static class Limits
{
    /// <summary>Names of projects, labels, models and classes.</summary>
    public const int Name = 200;
    public const int Description = 2000;
    public const int LabelsPerProject = 1000;
    public const int ClassesPerModel = 10_000;
    /// <summary>Explicit image ids in one pre-labeling request; a whole project needs none (use the status filter).</summary>
    public const int ImageIdsPerRequest = 100_000;

    /// <summary>Body of a small JSON request (projects, labels, models, mappings, review).</summary>
    public const long SmallJsonBody = 1 << 20;
    /// <summary>Body of an annotation write: a full-image mask's RLE or a 10,000-point polygon fits easily.</summary>
    public const long AnnotationBody = 16 << 20;
    /// <summary>The bulk annotations route: 10,000 shapes, polygons and masks among them.</summary>
    public const long BulkAnnotationBody = 64 << 20;
    /// <summary>Body of a pre-labeling request: 100,000 image ids are about 4 MB.</summary>
    public const long PrelabelBody = 8 << 20;
    /// <summary>A predictions import (a COCO results file or a zip of YOLO txt files): about a million boxes with scores.</summary>
    public const long PredictionsBody = 256 << 20;
}

public static class BodyLimitExtensions
{
    /// <summary>
    /// Refuses a request whose declared Content-Length is over its endpoint's limit with a 413 ProblemDetails before
    /// anything is read (Kestrel also enforces the limit on bodies without a length, as they are read).
    /// </summary>
    public static IApplicationBuilder UseBodyLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IRequestSizeLimitMetadata>() is { MaxRequestBodySize: { } max }
            && context.Request.ContentLength > max)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = 413, Title = "Request body too large",
                    Detail = $"The request body is {context.Request.ContentLength:N0} bytes; this endpoint accepts at most {max:N0}. The request body is larger than this endpoint accepts." },
            });
            return;
        }
        await next(context);
    });

    /// <summary>Caps the request body of these endpoints; a larger body is a 413 ProblemDetails (see BadRequestProblems).</summary>
    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder builder, long bytes) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(bytes));
}
