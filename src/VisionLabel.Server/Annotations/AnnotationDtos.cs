using System.Text.Json;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

public sealed record AnnotationSourceDto(AnnotationSourceType Type, string? ModelId = null, double? Score = null);

public sealed record AnnotationDto(
    Guid Id, Guid ImageId, Guid LabelId, AnnotationKind Kind, JsonElement Geometry, JsonElement Attributes,
    AnnotationSourceDto Source, AnnotationState State, int Version,
    string CreatedBy, DateTime CreatedAt, string UpdatedBy, DateTime UpdatedAt)
{
    public static AnnotationDto From(Annotation a) => new(a.Id, a.ImageId, a.LabelId, a.Kind,
        JsonDocument.Parse(a.Geometry).RootElement, JsonDocument.Parse(a.Attributes).RootElement,
        new AnnotationSourceDto(a.Source, a.ModelId, a.Score), a.State, a.Version, a.CreatedBy, a.CreatedAt, a.UpdatedBy, a.UpdatedAt);
}

/// <summary>Id is optional: a client may mint the Guid itself so it can refer to the shape before the reply.</summary>
public sealed record CreateAnnotationRequest(
    Guid LabelId, AnnotationKind Kind, JsonElement Geometry, Guid? Id = null, JsonElement? Attributes = null,
    AnnotationSourceDto? Source = null, AnnotationState? State = null);

/// <summary>Only the properties present change. Version is the one the client last saw; a mismatch is a 409.</summary>
public sealed record UpdateAnnotationRequest(
    int Version, Guid? LabelId = null, AnnotationKind? Kind = null, JsonElement? Geometry = null,
    JsonElement? Attributes = null, AnnotationState? State = null);

/// <summary>Many annotations created at once (POST …/annotations/bulk): each as one create, at most
/// <see cref="AnnotationsApi.MaxBulk"/> a request, all stored or none.</summary>
public sealed record BulkCreateRequest([property: System.ComponentModel.DataAnnotations.MaxLength(AnnotationsApi.MaxBulk)] IReadOnlyList<BulkAnnotation>? Annotations);

public sealed record BulkAnnotation(Guid LabelId, AnnotationKind Kind, JsonElement Geometry, JsonElement? Attributes = null, AnnotationState? State = null);

/// <summary>The ids of the annotations made (in the request's order) and the op numbers they took.</summary>
public sealed record BulkCreated(int Created, IReadOnlyList<Guid> Ids, long? FirstSeq, long? LastSeq);
