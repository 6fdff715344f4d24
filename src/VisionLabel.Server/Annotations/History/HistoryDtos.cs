using System.Text.Json;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// One op of an image's log as people read it: who, when, which annotation (its label and kind at that moment) and
/// what it did in a short sentence ("created box car", "relabelled person → car", "undo of #12").
/// LabelName is null when the label has since been deleted.
/// </summary>
public sealed record HistoryItem(long Seq, DateTime At, string Author, OpType Type, Guid AnnotationId, Guid? LabelId, string? LabelName,
    AnnotationKind? Kind, string What, long? UndoOf, long? RedoOf);

/// <summary>A page of the history, newest first; NextBefore is the ?before= of the next (older) page, null at the first op.</summary>
public sealed record HistoryPage(IReadOnlyList<HistoryItem> Items, long? NextBefore);

/// <summary>An annotation as it was at some op: the properties the annotations list returns that ops change.</summary>
public sealed record HistoricAnnotation(Guid Id, Guid LabelId, AnnotationKind Kind, JsonElement Geometry, JsonElement Attributes,
    AnnotationState State, AnnotationSourceDto Source);

/// <summary>The image's annotations right after op Seq was applied (by Author, At), in the order they were created.</summary>
public sealed record HistoryState(long Seq, DateTime At, string Author, IReadOnlyList<HistoricAnnotation> Annotations);
