using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.SignalR;

namespace VisionLabel.Server.Accounts;

/// <summary>
/// Checks every hub call against its method's <see cref="HubAccessAttribute"/>, from the database (a removed member, a
/// revoked token or a disabled account is refused within a second, even on a connection opened before; see DecideAsync).
/// A method without the attribute is refused. The caller's decision is kept in Context.Items for the method to use.
/// </summary>
public sealed class HubAccessFilter(HubConnections connections) : IHubFilter
{
    public const string DecisionKey = "visionlabel:access";

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocation, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var attribute = Attributes.GetOrAdd(invocation.HubMethod, m => m.GetCustomAttribute<HubAccessAttribute>())
                        ?? throw new HubException($"not allowed: {invocation.HubMethodName} declares no access rule");
        var rule = attribute.Rule;
        var ids = IdsOf(invocation);
        if (rule.Level == AccessLevel.Project && ids is { ProjectId: null, ImageId: null, JobId: null })
        {
            var parameters = invocation.HubMethod.GetParameters();
            var named = parameters.FirstOrDefault(p => typeof(IImageScoped).IsAssignableFrom(p.ParameterType))?.Name ?? "imageId";
            throw new HubException($"{invocation.HubMethodName}({string.Join(", ", parameters.Select(p => p.Name))}): {named} is required; it names the image the call is about");
        }
        var decision = await DecideAsync(invocation, rule, ids);
        if (!decision.Allowed)
        {
            // The same words as the REST API's ProblemDetails title and detail; the status leads so clients can tell them apart.
            throw new HubException($"{decision.Status} {decision.Title}: {decision.Detail}");
        }
        invocation.Context.Items[DecisionKey] = decision;
        if (decision.ProjectId is { } projectId) connections.Touched(invocation.Context, projectId);
        return await next(invocation);
    }

    /// <summary>How long a connection reuses an allowed decision for the same method rule and ids.</summary>
    public static readonly TimeSpan DecisionLifetime = TimeSpan.FromSeconds(1);
    private const string CacheKey = "visionlabel:access-cache";
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<MethodInfo, HubAccessAttribute?> Attributes = new();

    /// <summary>
    /// An editor sends several ops a second: an allowed decision is reused by the same connection for the same rule and
    /// ids for <see cref="DecisionLifetime"/>, so a revocation, a disabled account or a removed membership made elsewhere
    /// (another process, the CLI) stops a live connection's calls within a second; made on this process, the connection
    /// is closed at once (HubConnections). Refusals are never reused.
    /// </summary>
    private static async Task<AccessDecision> DecideAsync(HubInvocationContext invocation, AccessRule rule, ResourceIds ids)
    {
        var items = invocation.Context.Items;
        if (!items.TryGetValue(CacheKey, out var c) || c is not Dictionary<(AccessRule, ResourceIds), (AccessDecision Decision, long Until)> cache)
            items[CacheKey] = cache = [];
        long now = Environment.TickCount64;
        if (cache.TryGetValue((rule, ids), out var hit) && hit.Until > now) return hit.Decision;
        var checker = invocation.ServiceProvider.GetRequiredService<AccessChecker>();
        var decision = await checker.CheckAsync(invocation.Context.User, rule, rule.Writes ?? true, ids, invocation.Context.ConnectionAborted);
        if (decision.Allowed)
        {
            if (cache.Count > 64) cache.Clear();
            cache[(rule, ids)] = (decision, now + (long)DecisionLifetime.TotalMilliseconds);
        }
        return decision;
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        connections.Add(context.Context);
        await next(context);
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        connections.Remove(context.Context);
        await next(context, exception);
    }

    private static ResourceIds IdsOf(HubInvocationContext invocation)
    {
        Guid? project = null, image = null, job = null;
        var parameters = invocation.HubMethod.GetParameters();
        for (int i = 0; i < parameters.Length && i < invocation.HubMethodArguments.Count; i++)
        {
            var value = invocation.HubMethodArguments[i];
            switch (parameters[i].Name)
            {
                case "projectId" when value is Guid g: project = g; break;
                case "imageId" when value is Guid g: image = g; break;
                case "jobId" when value is Guid g: job = g; break;
                default: if (value is IImageScoped scoped) image = scoped.ImageId; break;
            }
        }
        return new(project, image, job);
    }
}

/// <summary>The decision the filter made for the current hub call.</summary>
public static class HubAccess
{
    public static AccessDecision Access(this HubCallerContext context) =>
        context.Items.TryGetValue(HubAccessFilter.DecisionKey, out var d) && d is AccessDecision decision ? decision
            : throw new InvalidOperationException("no access decision: HubAccessFilter did not run");
}

/// <summary>
/// The open hub connections of this process, so that removing a member closes their connections to that project's
/// hubs, and revoking a token or disabling an account closes the connections it opened.
/// </summary>
public sealed class HubConnections(IEnumerable<IConnectionCloseRelay> relays)
{
    private const string ProjectsKey = "visionlabel:projects";
    private readonly ConcurrentDictionary<string, HubCallerContext> _open = new();

    /// <summary>Closes the matching connections here and, through the relay (Redis), on every other server process.</summary>
    public async Task CloseEverywhereAsync(CloseRequest request)
    {
        Close(request);
        foreach (var relay in relays) await relay.PublishAsync(request);
    }

    /// <summary>Closes the matching connections of this process (also what the relay calls for other processes' requests).</summary>
    public int Close(CloseRequest request) => request.TokenId is { } token ? CloseToken(token) : Close(request.UserId!.Value, request.ProjectId);

    public void Add(HubCallerContext context) => _open[context.ConnectionId] = context;
    public void Remove(HubCallerContext context) => _open.TryRemove(context.ConnectionId, out _);

    public void Touched(HubCallerContext context, Guid projectId)
    {
        if (!context.Items.TryGetValue(ProjectsKey, out var p) || p is not ConcurrentDictionary<Guid, byte> projects)
            context.Items[ProjectsKey] = projects = new ConcurrentDictionary<Guid, byte>();
        projects.TryAdd(projectId, 0);
    }

    /// <summary>Closes the user's connections that used the project (all of theirs when no project is given).</summary>
    public int Close(Guid userId, Guid? projectId = null) => CloseWhere(c =>
        c.UserIdentifier == userId.ToString() && (projectId is null ||
            c.Items.TryGetValue(ProjectsKey, out var p) && p is ConcurrentDictionary<Guid, byte> projects && projects.ContainsKey(projectId.Value)));

    /// <summary>Closes the connections opened with this token.</summary>
    public int CloseToken(Guid tokenId) => CloseWhere(c => c.User?.FindFirst(AccessChecker.TokenClaim)?.Value == tokenId.ToString());

    private int CloseWhere(Func<HubCallerContext, bool> match)
    {
        int closed = 0;
        foreach (var context in _open.Values.Where(match)) { context.Abort(); closed++; }
        return closed;
    }
}

/// <summary>Which connections to close: a token's, or a user's (to one project, or all).</summary>
public sealed record CloseRequest(Guid? UserId, Guid? ProjectId, Guid? TokenId);

/// <summary>Carries close requests to the other server processes (Scaleout registers the Redis one when configured).</summary>
public interface IConnectionCloseRelay
{
    Task PublishAsync(CloseRequest request);
}
