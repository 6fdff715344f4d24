using System.ComponentModel.DataAnnotations;
using VisionLabel.Server.Common;
using System.Text.Json;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Inference;

public sealed record ModelDto(
    Guid Id, string Name, string FileName, string ContentHash, long SizeBytes, string Family, string Task,
    int InputWidth, int InputHeight, int? FixedBatch, IReadOnlyList<string> ClassNames, string ClassNamesSource, DateTime CreatedAt)
{
    public static ModelDto From(DetectionModel m) => new(m.Id, m.Name, m.FileName, m.ContentHash, m.SizeBytes, m.Family, m.Task,
        m.InputWidth, m.InputHeight, m.FixedBatch, ClassNamesOf(m), m.ClassNamesSource, m.CreatedAt);

    public static List<string> ClassNamesOf(DetectionModel m) => JsonSerializer.Deserialize<List<string>>(m.ClassNames) ?? [];
}

public sealed record UpdateModelRequest([property: StringLength(Limits.Name)] string? Name = null, [property: MaxLength(Limits.ClassesPerModel)] IReadOnlyList<string>? ClassNames = null);

/// <summary>One model class and the project label it becomes (null: the class is skipped).</summary>
public sealed record ClassMapping(int ClassIndex, string ClassName, Guid? LabelId, string? LabelName);

public sealed record ModelMappingDto(Guid ProjectId, Guid ModelId, bool Saved, IReadOnlyList<ClassMapping> Classes);

public sealed record ClassMappingInput(int ClassIndex, Guid? LabelId);

public sealed record SaveMappingRequest([property: MaxLength(Limits.ClassesPerModel)] IReadOnlyList<ClassMappingInput> Classes);
