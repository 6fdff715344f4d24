namespace VisionLabel.Server.Accounts;

/// <summary>Metrics: admins, or a token with the metrics scope (which can do nothing else).</summary>
public enum AccessLevel { Anonymous, SignedIn, Admin, Project, Metrics }

/// <summary>
/// Who may call an endpoint or hub method. Every endpoint and hub method declares one (AccessMiddleware refuses an
/// endpoint without, and the authorization matrix test fails on it). A project rule names the least role; the
/// project comes from the route's projectId, imageId or jobId. Writes: whether a read-only token is refused (by
/// default every method but GET and HEAD writes).
/// </summary>
public sealed record AccessRule(AccessLevel Level, ProjectRole Role = ProjectRole.Viewer, bool? Writes = null)
{
    public bool WritesFor(string method) => Writes ?? !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method));

    public override string ToString() => Level switch
    {
        AccessLevel.Project => $"project {Role.ToString().ToLowerInvariant()}",
        AccessLevel.SignedIn => "signed in",
        _ => Level.ToString().ToLowerInvariant(),
    };
}

public static class AccessRules
{
    public static TBuilder AllowAnonymousAccess<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AccessRule(AccessLevel.Anonymous));

    public static TBuilder RequireSignedIn<TBuilder>(this TBuilder builder, bool? writes = null) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AccessRule(AccessLevel.SignedIn, Writes: writes));

    public static TBuilder RequireAdmin<TBuilder>(this TBuilder builder, bool? writes = null) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AccessRule(AccessLevel.Admin, Writes: writes));

    public static TBuilder RequireProjectRole<TBuilder>(this TBuilder builder, ProjectRole role) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AccessRule(AccessLevel.Project, role));
}

/// <summary>The access rule of a hub method (see <see cref="AccessRule"/>); the project comes from an argument named
/// projectId, imageId or jobId, or one that is <see cref="IImageScoped"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class HubAccessAttribute(AccessLevel level, ProjectRole role = ProjectRole.Viewer) : Attribute
{
    public bool Writes { get; init; }
    public AccessRule Rule => new(level, role, Writes);
}

/// <summary>A hub argument that names the image it is about (an op).</summary>
public interface IImageScoped
{
    Guid ImageId { get; }
}
