using System.Text.Json;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Inference;

/// <summary>How a model's classes map to a project's labels (read by the mapping API and by pre-labeling).</summary>
public static class ModelMappings
{
    /// <summary>The saved mapping, or by default each class mapped to the project label of the same name (ignoring case).</summary>
    public static ModelMappingDto Describe(Guid projectId, DetectionModel model, List<Label> labels, ProjectModelMapping? saved)
    {
        var names = ModelDto.ClassNamesOf(model);
        var map = saved is null ? null : JsonSerializer.Deserialize<Dictionary<string, Guid?>>(saved.Mapping);
        var classes = names.Select((name, i) =>
        {
            Label? label = map is not null
                ? map.GetValueOrDefault(i.ToString()) is { } id ? labels.FirstOrDefault(l => l.Id == id) : null
                : labels.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase));
            return new ClassMapping(i, name, label?.Id, label?.Name);
        }).ToList();
        return new ModelMappingDto(projectId, model.Id, saved is not null, classes);
    }
}
