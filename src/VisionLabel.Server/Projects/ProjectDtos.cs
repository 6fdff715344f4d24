using VisionLabel.Server.Data;

namespace VisionLabel.Server.Projects;

public sealed record LabelDto(Guid Id, string Name, string Color, int Order)
{
    public static LabelDto From(Label l) => new(l.Id, l.Name, l.Color, l.Order);
}

public sealed record ProjectDto(Guid Id, string Name, string? Description, IReadOnlyList<LabelDto> Labels, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static ProjectDto From(Project p) => new(p.Id, p.Name, p.Description,
        p.Labels.OrderBy(l => l.Order).ThenBy(l => l.Name).Select(LabelDto.From).ToList(), p.CreatedAt, p.UpdatedAt);
}

public sealed record CreateLabelRequest(string Name, string? Color = null, int? Order = null);
public sealed record UpdateLabelRequest(string? Name = null, string? Color = null, int? Order = null);
public sealed record CreateProjectRequest(string Name, string? Description = null, IReadOnlyList<CreateLabelRequest>? Labels = null);
public sealed record UpdateProjectRequest(string? Name = null, string? Description = null);
