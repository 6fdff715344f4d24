using VisionLabel.Server.Common;

namespace VisionLabel.Server.Projects;

/// <summary>Who may create projects (VisionLabel:Projects:Creators): "anyone" signed in (the default), or "admins" only —
/// an instance where a lead sets every project up and people are added to them.</summary>
public sealed class ProjectsOptions
{
    public const string Section = "VisionLabel:Projects";
    public string Creators { get; set; } = "anyone";
    public bool AdminsOnly => Creators.Equals("admins", StringComparison.OrdinalIgnoreCase);
}

public static class ProjectsSetup
{
    public static IServiceCollection AddProjects(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<ProjectsOptions>(configuration, ProjectsOptions.Section, o =>
            o.Creators.ToLowerInvariant() is "anyone" or "admins" ? [] : [("Creators", $"'{o.Creators}' is neither anyone nor admins (who may create projects)")]);
        return services;
    }
}
