using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace VisionLabel.Server.Common;

/// <summary>
/// Turns a request the framework could not bind (bad JSON, a wrong type, an enum given as a number, a missing
/// required property, a body over the endpoint's limit) into a ProblemDetails that names the field and the problem,
/// instead of a bare "Bad Request". Needs RouteHandlerOptions.ThrowOnBadRequest, which ServerHost sets.
/// </summary>
public sealed partial class BadRequestProblems(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        if (exception is not BadHttpRequestException bad || context.Response.HasStarted) return false;
        var (field, message) = Explain(bad);
        var problem = new ProblemDetails
        {
            Status = bad.StatusCode,
            Title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : "The request is not valid",
            Detail = message,
        };
        if (field is not null) problem.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [message] };
        context.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = null });
    }

    internal static (string? Field, string Message) Explain(BadHttpRequestException bad)
    {
        if (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
            return (null, "The request body is larger than this endpoint accepts. " + bad.Message.TrimEnd('.') + ".");
        switch (bad.InnerException)
        {
            case JsonException { InnerException: { } reader } when reader.GetType().Name == "JsonReaderException":
                return ("body", $"the body is not valid JSON: {reader.Message.Split(" LineNumber:")[0].Trim()} (at byte {((JsonException)bad.InnerException).BytePositionInLine})");
            case JsonException json:
            {
                string field = json.Path is { Length: > 1 } p ? p.TrimStart('$', '.') : "body";
                string message = json.Message.Split(" Path:")[0];
                if (MissingRequired().Match(message) is { Success: true } m)
                    return (field == "body" ? m.Groups[1].Value.Split(',')[0].Trim('\'', ' ') : field, $"missing required propert{(m.Groups[1].Value.Contains(',') ? "ies" : "y")} {m.Groups[1].Value}");
                if (CouldNotConvert().Match(message) is { Success: true } c)
                    return (field, $"{field}: {ExpectedValue(TypeAtSuffix(FindType(c.Groups[1].Value), field))}");
                if (message.Contains("could not be mapped", StringComparison.Ordinal))
                    return (field, $"{field} is not a known property");
                if (json.InnerException is { } inner) message = inner.Message;
                return (field, field == "body" ? $"the body is not valid JSON: {message}" : $"{field}: {message}");
            }
            default:
                // "Required parameter \"int version\" was not provided from query string." and similar.
                var parameter = ParameterName().Match(bad.Message);
                return (parameter.Success ? parameter.Groups[1].Value : null, bad.Message);
        }
    }

    private static Type? FindType(string typeName)
    {
        string name = typeName.Replace("System.Nullable`1[", "").TrimEnd(']');
        return Type.GetType(name) ?? AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(name)).FirstOrDefault(t => t is not null);
    }

    /// <summary>The serializer names the innermost record that failed, so the path may start above it: try each suffix.</summary>
    private static Type? TypeAtSuffix(Type? root, string path)
    {
        var segments = path.Split('.');
        for (int i = 0; i < segments.Length; i++)
            if (TypeAt(root, string.Join('.', segments[i..])) is { } type && type != root) return type;
        return root;
    }

    /// <summary>
    /// The type of the value at a JSON path under a request type ("source.type" under CreateAnnotationRequest is
    /// AnnotationSourceType): the serializer names the request type when a constructor parameter fails to convert.
    /// </summary>
    private static Type? TypeAt(Type? root, string path)
    {
        var type = root;
        foreach (var raw in path.Split('.'))
        {
            if (type is null) return null;
            string segment = raw;
            int bracket = segment.IndexOf('[');
            if (bracket >= 0) segment = segment[..bracket];
            var property = type.GetProperties().FirstOrDefault(p => p.Name.Equals(segment, StringComparison.OrdinalIgnoreCase));
            if (property is null) return type == root && raw == path ? type : null;
            type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (bracket >= 0) type = type.IsArray ? type.GetElementType() : type.GetGenericArguments().FirstOrDefault();
        }
        return type;
    }

    /// <summary>What a value of the CLR type should look like, in API terms.</summary>
    private static string ExpectedValue(Type? type)
    {
        if (type is null) return "this value has the wrong type";
        type = Nullable.GetUnderlyingType(type) ?? type;
        string name = type.FullName ?? type.Name;
        if (type is { IsEnum: true })
            return $"use one of {string.Join(", ", Enum.GetNames(type).Select(JsonNamingPolicy.KebabCaseLower.ConvertName))} (as a string)";
        return name switch
        {
            "System.Guid" => "expected a GUID string",
            "System.Int32" or "System.Int64" => "expected an integer (a JSON number)",
            "System.Double" or "System.Single" => "expected a number (a JSON number)",
            "System.Boolean" => "expected true or false",
            "System.String" => "expected a string",
            "System.Text.Json.JsonElement" => "expected a JSON value",
            _ when type.IsArray || type.IsGenericType => "expected an array",
            _ => "expected an object",
        };
    }

    [GeneratedRegex("missing required properties including: (.+?)\\.?$")]
    private static partial Regex MissingRequired();

    [GeneratedRegex("could not be converted to ([^ .]+(?:\\.[^ .]+)*(?:\\[[^\\]]+\\])?)")]
    private static partial Regex CouldNotConvert();

    [GeneratedRegex("parameter \"\\S+ (\\w+)\"")]
    private static partial Regex ParameterName();
}
