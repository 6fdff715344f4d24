using System.Text.Json;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// An annotation's attribute values against its label's definitions: a value under a defined name must be of its type
/// (text: a string of at most 1,000 characters; number: a finite number; select: one of the options; checkbox: true
/// or false). Names the label does not define are kept as they are (COCO's iscrowd, attributes of another label, an
/// import's extras): the definitions constrain, they do not filter. A missing value is allowed: the object has none yet.
/// </summary>
public static class AttributeValues
{
    public const int MaxTextLength = 1000;

    /// <summary>Keys of an annotation's attributes that dataset import and export use for themselves (COCO's iscrowd and
    /// its declared box and area): an attribute of that name would be read as them.</summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "iscrowd", "coco" };

    /// <summary>The first value that breaks its definition, as (field "attributes.NAME", what is wrong); null when all fit.</summary>
    /// <param name="before">The object's values before an update: a value left as it was is not checked again (a label's
    /// definitions may have changed since it was set; it stays until someone edits it). Null: check every value.</param>
    public static (string Field, string Problem)? Problem(IReadOnlyList<LabelAttribute> definitions, JsonElement attributes, string labelName, JsonElement? before = null)
    {
        foreach (var d in definitions)
            if (attributes.TryGetProperty(d.Name, out var value) && !Unchanged(before, d.Name, value) && ValueProblem(d, value) is { } problem)
                return ($"attributes.{d.Name}", $"{problem} (label {labelName})");
        return null;
    }

    private static bool Unchanged(JsonElement? before, string name, JsonElement value) =>
        before is { ValueKind: JsonValueKind.Object } b && b.TryGetProperty(name, out var old) && JsonElement.DeepEquals(old, value);

    public static string? ValueProblem(LabelAttribute d, JsonElement value) => d.Type switch
    {
        AttributeType.Text => value.ValueKind != JsonValueKind.String ? $"'{d.Name}' is a text: give a string"
            : value.GetString()!.Length > MaxTextLength ? $"'{d.Name}' is at most {MaxTextLength} characters" : null,
        AttributeType.Number => value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double n) || !double.IsFinite(n) ? $"'{d.Name}' is a number" : null,
        AttributeType.Checkbox => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : $"'{d.Name}' is a checkbox: true or false",
        AttributeType.Select => value.ValueKind == JsonValueKind.String && d.Options!.Contains(value.GetString()!) ? null
            : $"'{d.Name}' is one of {string.Join(", ", d.Options!.Select(o => $"'{o}'"))}",
        _ => $"'{d.Name}' has an unknown type",
    };

    /// <summary>What an export writes for an object: its values, and the label's defaults where it has none (COCO's own keys left out).</summary>
    public static Dictionary<string, JsonElement> ForExport(string attributesJson, IReadOnlyList<LabelAttribute> definitions)
    {
        var result = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (attributesJson.Length > 2)
        {
            using var doc = JsonDocument.Parse(attributesJson);
            foreach (var p in doc.RootElement.EnumerateObject())
                if (!Reserved.Contains(p.Name)) result[p.Name] = p.Value.Clone();
        }
        foreach (var d in definitions)
            if (d.Default is { } v && !result.ContainsKey(d.Name)) result[d.Name] = v;
        return result;
    }
}
