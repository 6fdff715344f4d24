using Microsoft.AspNetCore.Http.HttpResults;

namespace VisionLabel.Server.Common;

/// <summary>ProblemDetails responses with a title that names the problem and a detail that says what to do.</summary>
public static class Problems
{
    public static ProblemHttpResult NotFound(string what, Guid id) =>
        TypedResults.Problem(statusCode: 404, title: $"{what} not found", detail: $"No {what.ToLowerInvariant()} has id {id}.");

    public static ProblemHttpResult BadRequest(string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(statusCode: 400, title: title, detail: detail, extensions: extensions);

    public static ProblemHttpResult Conflict(string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(statusCode: 409, title: title, detail: detail, extensions: extensions);

    public static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] },
            title: "The request is not valid", detail: message);
}

/// <summary>API enum names are kebab-case ("in-progress"); query strings accept any case and dashes.</summary>
public static class ApiEnum
{
    public static bool TryParse<T>(string? text, out T value) where T : struct, Enum
    {
        value = default;
        return !string.IsNullOrWhiteSpace(text) && !int.TryParse(text, out _) &&
               Enum.TryParse(text.Replace("-", "").Replace("_", ""), ignoreCase: true, out value) && Enum.IsDefined(value);
    }

    public static string Name<T>(T value) where T : struct, Enum => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    public static string Names<T>() where T : struct, Enum =>
        string.Join(", ", Enum.GetNames<T>().Select(n => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(n)));
}

/// <summary>One shape for every 4xx: errors keyed by the JSON names of fields, and a detail that says the first problem.</summary>
public static class ProblemShapes
{
    public static void Customize(ProblemDetailsContext context)
    {
        if (context.ProblemDetails.Detail is null && StatusDetail(context.HttpContext, context.ProblemDetails.Status) is { } detail)
            context.ProblemDetails.Detail = detail;
        if (context.ProblemDetails is not HttpValidationProblemDetails validation || validation.Errors.Count == 0) return;
        var errors = validation.Errors.ToDictionary(e => JsonPath(e.Key), e => e.Value);
        validation.Errors.Clear();
        foreach (var (key, value) in errors) validation.Errors[key] = value;
        if (validation.Title == "One or more validation errors occurred.") validation.Title = "The request is not valid";
        validation.Detail ??= string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
    }

    /// <summary>
    /// What a bare status (written by routing or the status-code pages, not by a handler) means for this request: an id
    /// that is not a GUID matches no route and would otherwise be a silent 404.
    /// </summary>
    private static string? StatusDetail(HttpContext http, int? status)
    {
        var request = http.Request;
        string path = request.Path.Value ?? "/";
        switch (status)
        {
            case 404 when path.StartsWith("/api/", StringComparison.OrdinalIgnoreCase):
                var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
                for (int i = 1; i < segments.Length; i++)
                    if (IdCollections.Contains(segments[i - 1]) && !Guid.TryParse(segments[i], out _))
                        return $"'{segments[i]}' in {path} is not a valid id: {segments[i - 1]} are named by GUIDs such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301.";
                return $"No API route matches {request.Method} {path}. The routes are listed in /openapi/v1.json.";
            case 405:
                return $"{request.Method} is not allowed on {path}. The methods each route takes are listed in /openapi/v1.json.";
            case 415:
                return $"This route does not take the Content-Type '{request.ContentType ?? "(none)"}'. See /openapi/v1.json for its body.";
            default:
                return null;
        }
    }

    /// <summary>Path segments followed by an id in the API's routes.</summary>
    private static readonly HashSet<string> IdCollections = new(StringComparer.OrdinalIgnoreCase)
        { "projects", "images", "annotations", "models", "jobs", "labels", "comments", "users", "tokens", "members", "webhooks", "deliveries" };

    /// <summary>"Labels[0].Name" → "labels[0].name".</summary>
    private static string JsonPath(string key) =>
        string.Join('.', key.Split('.').Select(s => s.Length == 0 ? s : char.ToLowerInvariant(s[0]) + s[1..]));
}
