using System.ComponentModel.DataAnnotations;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Projects;

/// <param name="RequiredF1">The F1 its quality figures must reach (docs/quality.md); null: no requirement.</param>
/// <param name="Hotkey">The key that picks it in the editor ("1"…"9", "0", then q w t u o d g j n z); null: none.</param>
/// <param name="Attributes">What its objects record besides the shape (docs/labels.md).</param>
public sealed record LabelDto(Guid Id, string Name, string Color, int Order, double? RequiredF1, string? Hotkey, IReadOnlyList<LabelAttribute> Attributes)
{
    public static LabelDto From(Label l) => new(l.Id, l.Name, l.Color, l.Order, l.RequiredF1, l.Hotkey, l.Attributes);
}

/// <param name="ArchivedAt">Set while it is archived (out of the project list, queue closed).</param>
public sealed record ProjectDto(Guid Id, string Name, string? Description, IReadOnlyList<LabelDto> Labels, DateTime CreatedAt, DateTime UpdatedAt,
    Annotations.WorkflowDto Workflow, DateTime? ArchivedAt = null)
{
    public static ProjectDto From(Project p) => new(p.Id, p.Name, p.Description,
        p.Labels.OrderBy(l => l.Order).ThenBy(l => l.Name).Select(LabelDto.From).ToList(), p.CreatedAt, p.UpdatedAt, Annotations.WorkflowDto.From(p), p.ArchivedAt);
}

// Limits are declared on the requests and checked by minimal-API validation (AddValidation) before a handler runs:
// a 400 ValidationProblem names the field. Rules that need the database (names taken) stay in the handlers.
/// <summary>A project's images by status ("new", "prelabeled", "in-progress", "submitted", "approved", "rejected").</summary>
public sealed record ProjectStatsDto(Guid ProjectId, int Total, Dictionary<string, int> ByStatus);

/// <param name="Hotkey">"1"…"9", "0", q w t u o d g j n z; absent: the next free one; "": none.</param>
/// <param name="Attributes">Each {name, type: text|number|select|checkbox, options (a select's), default}.</param>
public sealed record CreateLabelRequest([property: StringLength(200)] string Name, [property: StringLength(7)] string? Color = null, int? Order = null,
    [property: StringLength(8)] string? Hotkey = null, [property: MaxLength(LabelAttributeRules.MaxPerLabel)] IReadOnlyList<LabelAttribute>? Attributes = null);
/// <param name="RequiredF1">0..1; 0 removes the requirement.</param>
/// <param name="Hotkey">"": none.</param>
/// <param name="Attributes">Replaces the label's list (objects keep the values they have).</param>
public sealed record UpdateLabelRequest([property: StringLength(200)] string? Name = null, [property: StringLength(7)] string? Color = null, int? Order = null,
    [property: Range(0.0, 1.0)] double? RequiredF1 = null, [property: StringLength(8)] string? Hotkey = null,
    [property: MaxLength(LabelAttributeRules.MaxPerLabel)] IReadOnlyList<LabelAttribute>? Attributes = null);
public sealed record CreateProjectRequest(
    [property: StringLength(200)] string Name, [property: StringLength(Limits.Description)] string? Description = null,
    [property: MaxLength(Limits.LabelsPerProject)] IReadOnlyList<CreateLabelRequest>? Labels = null);
/// <param name="Workflow">Work distribution settings (leaseSeconds, reviewPercent, fullReviewFor, allowSelfReview, maxPerAnnotator, priority, seed, rejectReasons, reviewQueueAlert); absent fields stay.</param>
public sealed record UpdateProjectRequest([property: StringLength(200)] string? Name = null, [property: StringLength(Limits.Description)] string? Description = null,
    Annotations.WorkflowPatch? Workflow = null);
