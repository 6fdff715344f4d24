using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Every endpoint (from the app's own EndpointDataSource) and every hub method (from the hub classes) × every kind of
/// caller, through the real HTTP pipeline and hub connections, against the matrix docs/security.md promises. An
/// endpoint or hub method without a declared access rule, or one the document does not list, fails the test.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class AuthorizationMatrixTests : IDisposable
{
    /// <summary>The callers of the matrix, in the document's column order.</summary>
    public static readonly string[] Callers = ["anonymous", "viewer", "annotator", "reviewer", "owner", "admin", "other project", "read token", "expired token", "revoked token"];

    /// <summary>What an access refusal says (AccessChecker), so it is never mistaken for a handler's own 4xx.</summary>
    private static readonly Regex AccessTitle = new("^(Sign-in required|Read-only token|Metrics token|Admins only|\\w+ role required|(Project|Image|Job) not found|Not allowed)$");

    private readonly TempDirectory _data = new();
    private readonly VisionLabelApp _app;

    public AuthorizationMatrixTests()
    {
        _app = new VisionLabelApp(_data.Path, new Dictionary<string, string?> { ["VisionLabel:Accounts:SignInAttemptsPerMinute"] = "10000" });
    }

    public void Dispose()
    {
        _app.Dispose();
        _data.Dispose();
    }

    private static string DocsPath => Path.Combine(SharedData.RepositoryRoot, "docs", "security.md");

    /// <summary>The outcome a rule promises a caller: ✓ (allowed), or the refusal's status.</summary>
    public static string Expected(AccessRule rule, bool writes, string caller)
    {
        if (rule.Level == AccessLevel.Anonymous) return "✓";
        if (caller is "anonymous" or "expired token" or "revoked token") return "401";
        if (caller == "read token" && writes) return "403";
        var role = caller switch
        {
            "viewer" => ProjectRole.Viewer, "annotator" => ProjectRole.Annotator, "reviewer" => ProjectRole.Reviewer,
            "owner" or "read token" => ProjectRole.Owner, _ => (ProjectRole?)null,
        };
        return rule.Level switch
        {
            AccessLevel.SignedIn => "✓",
            AccessLevel.Admin or AccessLevel.Metrics => caller == "admin" ? "✓" : "403",
            _ => caller == "admin" ? "✓" : caller == "other project" ? "404" : role >= rule.Role ? "✓" : "403",
        };
    }

    private sealed record Row(string Name, AccessRule Rule, bool Writes)
    {
        public string Markdown => $"| `{Name}` | {Rule} | {string.Join(" | ", Callers.Select(c => Expected(Rule, Writes, c)))} |";
    }

    private List<(RouteEndpoint Endpoint, string Method, Row Row)> Endpoints()
    {
        var list = new List<(RouteEndpoint, string, Row)>();
        var missing = new List<string>();
        foreach (var endpoint in _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var rule = endpoint.Metadata.GetMetadata<AccessRule>();
            string pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["ANY"]; // hubs and the dashboard take several
            foreach (var method in methods)
            {
                if (rule is null) { missing.Add($"{method} {pattern}"); continue; }
                list.Add((endpoint, method, new Row($"{method} {pattern}", rule, rule.WritesFor(method))));
            }
        }
        Assert.True(missing.Count == 0, "endpoints without an access rule (add RequireProjectRole, RequireSignedIn, RequireAdmin or AllowAnonymousAccess):\n" + string.Join("\n", missing));
        return list.DistinctBy(e => e.Item3.Name).OrderBy(e => e.Item3.Name, StringComparer.Ordinal).ToList();
    }

    private static List<(MethodInfo Method, Row Row)> HubMethods()
    {
        var list = new List<(MethodInfo, Row)>();
        var missing = new List<string>();
        foreach (var hub in new[] { typeof(AnnotationsHub), typeof(LiveHub) })
            foreach (var method in hub.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).Where(m => !m.IsSpecialName && m.Name is not ("OnConnectedAsync" or "OnDisconnectedAsync")))
            {
                if (method.GetCustomAttribute<HubAccessAttribute>() is not { } attribute) { missing.Add($"{hub.Name}.{method.Name}"); continue; }
                list.Add((method, new Row($"{hub.Name}.{method.Name}", attribute.Rule, attribute.Rule.Writes ?? true)));
            }
        Assert.True(missing.Count == 0, "hub methods without [HubAccess]:\n" + string.Join("\n", missing));
        return list.OrderBy(m => m.Item2.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>The rows of the document's matrix tables (lines that start with "| `").</summary>
    private static Dictionary<string, string> DocumentedRows() =>
        File.ReadAllLines(DocsPath).Where(l => l.StartsWith("| `", StringComparison.Ordinal))
            .ToDictionary(l => l.Split('`')[1], l => l.Trim());

    [Fact]
    public void The_document_lists_every_endpoint_and_hub_method_with_the_rule_the_code_declares()
    {
        var documented = DocumentedRows();
        var rows = Endpoints().Select(e => e.Row).Concat(HubMethods().Select(m => m.Row)).ToList();
        var wrong = rows.Where(r => !documented.TryGetValue(r.Name, out var line) || line != r.Markdown).ToList();
        var extra = documented.Keys.Except(rows.Select(r => r.Name)).ToList();
        Assert.True(wrong.Count == 0 && extra.Count == 0,
            $"docs/security.md does not match the code.\nRows to fix or add:\n{string.Join("\n", wrong.Select(r => r.Markdown))}\n" +
            $"Rows for things that no longer exist: {string.Join(", ", extra)}\nThe whole tables, as the code has them:\n" +
            string.Join("\n", Endpoints().Select(e => e.Row.Markdown)) + "\n\n" + string.Join("\n", HubMethods().Select(m => m.Row.Markdown)));
    }

    /// <summary>A project with one of each thing and a member in each role; its own per endpoint, so deletes cannot spoil the next.</summary>
    private sealed record Fixture(Guid Project, Guid Image, Guid Annotation, Guid Job);

    private async Task<Dictionary<string, string?>> CallerTokensAsync()
    {
        var tokens = new Dictionary<string, string?> { ["anonymous"] = null };
        foreach (var (caller, user) in new[] { ("viewer", "m-viewer"), ("annotator", "m-annotator"), ("reviewer", "m-reviewer"), ("owner", "m-owner"), ("other project", "stranger") })
            tokens[caller] = await TestAccounts.TokenAsync(_app.Services, user, admin: false);
        tokens["admin"] = await TestAccounts.TokenAsync(_app.Services, "root", admin: true);
        tokens["read token"] = await TestAccounts.TokenAsync(_app.Services, "m-owner", admin: false, scope: TokenScope.Read);
        tokens["expired token"] = await TestAccounts.TokenAsync(_app.Services, "m-owner", admin: false, expiresInDays: 1);
        tokens["revoked token"] = await TestAccounts.TokenAsync(_app.Services, "m-owner", admin: false);
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        string expiredHash = PersonalAccessTokens.HashOf(tokens["expired token"]!), revokedHash = PersonalAccessTokens.HashOf(tokens["revoked token"]!);
        await db.AccessTokens.Where(t => t.Hash == expiredHash).ExecuteUpdateAsync(s => s.SetProperty(t => t.ExpiresAt, DateTime.UtcNow.AddMinutes(-1)));
        await db.AccessTokens.Where(t => t.Hash == revokedHash).ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, DateTime.UtcNow));
        // The stranger owns a project of their own: a member of another project, not of this one.
        using var stranger = Client(tokens["other project"]);
        await (await stranger.PostJson("/api/projects", new { name = "strangers-own" })).Read<ProjectDto>();
        return tokens;
    }

    private HttpClient Client(string? token)
    {
        var client = _app.CreateClient();
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private async Task<Fixture> NewFixtureAsync(HttpClient owner, int n)
    {
        var (project, image) = await owner.ProjectWithImage($"matrix-{n}", ["thing"], 64, 48);
        var annotation = await (await owner.PostJson($"/api/images/{image.Id}/annotations",
            new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 10, height = 10 } })).Read<VisionLabel.Server.Annotations.AnnotationDto>();
        foreach (var (user, role) in new[] { ("m-viewer", "viewer"), ("m-annotator", "annotator"), ("m-reviewer", "reviewer") })
            await (await owner.PostJson($"/api/projects/{project.Id}/members", new { user, role })).Read<MemberDto>();
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        var job = new Job { Kind = "prelabel", ProjectId = project.Id, Status = JobStatus.Completed, Payload = "{}", CreatedAt = DateTime.UtcNow, FinishedAt = DateTime.UtcNow };
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return new Fixture(project.Id, image.Id, annotation.Id, job.Id);
    }

    private static string Fill(RouteEndpoint endpoint, Fixture f)
    {
        var path = new StringBuilder();
        foreach (var segment in endpoint.RoutePattern.PathSegments)
        {
            path.Append('/');
            foreach (var part in segment.Parts)
                path.Append(part switch
                {
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternSeparatorPart separator => separator.Content,
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart p => p.Name switch
                    {
                        "projectId" => f.Project.ToString(), "imageId" => f.Image.ToString(), "jobId" => f.Job.ToString(),
                        "annotationId" => f.Annotation.ToString(), "seq" => "1" /* the fixture's annotation was op 1 */, "documentName" => "v1", "path" => "", "level" => "0", "tile" => "0_0.jpg", _ => Guid.NewGuid().ToString(),
                    },
                    _ => "",
                });
        }
        return path.Length == 0 ? "/" : path.ToString();
    }

    /// <summary>The body a caller would send: empty multipart for upload endpoints, else an empty JSON object.</summary>
    private static HttpContent? Body(RouteEndpoint endpoint, string method)
    {
        if (method is "GET" or "DELETE" or "HEAD" or "ANY") return null;
        if (endpoint.Metadata.GetMetadata<IAcceptsMetadata>()?.ContentTypes.Any(t => t.StartsWith("multipart/", StringComparison.Ordinal)) == true)
            return new MultipartFormDataContent();
        return new StringContent("{}", Encoding.UTF8, "application/json");
    }

    private static async Task<string> OutcomeAsync(HttpResponseMessage response)
    {
        int status = (int)response.StatusCode;
        if (status is not (401 or 403 or 404)) return "✓";
        string body = await response.Content.ReadAsStringAsync();
        string? title = null;
        try { title = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("title").GetString(); } catch (Exception) { }
        return title is not null && AccessTitle.IsMatch(title) || status == 401 ? status.ToString() : "✓"; // a handler's own 403/404 is past access
    }

    [Fact]
    public async Task Every_endpoint_answers_every_kind_of_caller_as_the_document_promises()
    {
        var tokens = await CallerTokensAsync();
        using var owner = Client(tokens["owner"]);
        var failures = new List<string>();
        int n = 0;
        foreach (var (endpoint, method, row) in Endpoints())
        {
            var fixture = await NewFixtureAsync(owner, n++);
            string path = Fill(endpoint, fixture);
            foreach (var caller in Callers)
            {
                if (method == "DELETE") path = Fill(endpoint, await NewFixtureAsync(owner, n++)); // what the last caller deleted is gone
                using var client = Client(tokens[caller]);
                using var request = new HttpRequestMessage(new HttpMethod(method == "ANY" ? "GET" : method), path) { Content = Body(endpoint, method) };
                using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
                string outcome = await OutcomeAsync(response);
                string expected = Expected(row.Rule, row.Writes, caller);
                if (outcome != expected) failures.Add($"{row.Name} as {caller}: expected {expected}, got {(int)response.StatusCode} ({outcome})");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Every_hub_method_answers_every_kind_of_caller_as_the_document_promises()
    {
        var tokens = await CallerTokensAsync();
        using var owner = Client(tokens["owner"]);
        var fixture = await NewFixtureAsync(owner, 0);
        var failures = new List<string>();
        foreach (var caller in Callers)
        {
            var hubs = new Dictionary<Type, HubClient?>();
            foreach (var hubType in new[] { typeof(AnnotationsHub), typeof(LiveHub) })
            {
                string path = hubType == typeof(AnnotationsHub) ? "/hubs/annotations" : "/hubs/live";
                try { hubs[hubType] = await HubClient.ConnectAsync(_app.Server, tokens[caller] is { } t ? $"{path}?access_token={t}" : path); }
                catch (Exception) { hubs[hubType] = null; } // refused at connect (no or a dead token)
            }
            foreach (var (method, row) in HubMethods())
            {
                string expected = Expected(row.Rule, row.Writes, caller);
                string outcome;
                if (hubs[method.DeclaringType!] is not { } hub) outcome = "401";
                else
                {
                    try
                    {
                        await hub.CallAsync(method.Name, method.GetParameters().Select(p => Argument(p, fixture)).ToArray());
                        outcome = "✓";
                    }
                    catch (InvalidOperationException e)
                    {
                        var status = Regex.Match(e.Message, "HubException: (401|403|404) ");
                        // "STATUS Method: …" is the method's own refusal, past access (the workflow's rules); the access rule's has no method name.
                        outcome = status.Success && !e.Message.Contains($"{status.Groups[1].Value} {method.Name}:") ? status.Groups[1].Value : "✓";
                    }
                }
                if (outcome != expected) failures.Add($"{row.Name} as {caller}: expected {expected}, got {outcome}");
            }
            foreach (var hub in hubs.Values) if (hub is not null) await hub.DisposeAsync();
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static object? Argument(ParameterInfo p, Fixture f) => p.Name switch
    {
        "imageId" => f.Image, "projectId" => f.Project, "jobId" => f.Job,
        _ when p.ParameterType == typeof(Guid) => Guid.NewGuid(),
        _ when p.ParameterType == typeof(SubmitOp) => new { clientOpId = Guid.NewGuid().ToString(), imageId = f.Image, type = "delete", annotationId = Guid.NewGuid() },
        _ when p.ParameterType == typeof(ImageStatus) => "in-progress",
        _ when p.ParameterType == typeof(NewComment) => new { x = 1, y = 1, text = "matrix" },
        _ when p.ParameterType == typeof(RejectRequest) => new { reason = "missed object", comment = "matrix" },
        _ when p.ParameterType == typeof(Presence) => new { tool = "box" },
        _ when p.ParameterType == typeof(bool) => true,
        _ when p.ParameterType == typeof(long) => 0L,
        _ => throw new InvalidOperationException($"the matrix test does not know how to make a {p.ParameterType.Name} for {p.Member.Name}({p.Name}); add it"),
    };
}
