namespace VisionLabel.Server.Common;

/// <summary>
/// Who is making a request, for the created/updated-by fields. There is no authentication yet: the client
/// names its user in the X-VisionLabel-User header (or ?user= on hub connections). An auth issue will replace this one place.
/// </summary>
public static class CurrentUser
{
    public const string Header = "X-VisionLabel-User";
    public const string Anonymous = "anonymous";

    public static string Name(HttpContext context)
    {
        string? name = context.Request.Headers[Header];
        if (string.IsNullOrWhiteSpace(name)) name = context.Request.Query["user"]; // WebSocket clients in browsers cannot set headers
        return string.IsNullOrWhiteSpace(name) ? Anonymous : name.Trim()[..Math.Min(name.Trim().Length, 200)];
    }
}
