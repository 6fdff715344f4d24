using System.Text.Json;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Projects;

/// <summary>What a label's attribute definitions may be (docs/labels.md): the values' own rules are AttributeValues'.</summary>
public static class LabelAttributeRules
{
    public const int MaxPerLabel = 50;
    public const int MaxOptions = 100;
    public const int MaxNameLength = 100;
    public const int MaxOptionLength = 200;

    /// <summary>The definitions, trimmed; or the field (relative to the list, e.g. "[2].options") and what is wrong.</summary>
    public static (List<LabelAttribute>? Value, string? Field, string? Problem) Normalize(IReadOnlyList<LabelAttribute>? list)
    {
        if (list is null) return ([], null, null);
        if (list.Count > MaxPerLabel) return (null, "", $"a label has at most {MaxPerLabel} attributes");
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var result = new List<LabelAttribute>(list.Count);
        for (int i = 0; i < list.Count; i++)
        {
            var a = list[i];
            string at = $"[{i}]";
            if (a is null) return (null, at, "an attribute is an object with name and type");
            string name = a.Name?.Trim() ?? "";
            if (name.Length == 0) return (null, at + ".name", "a name is required");
            if (name.Length > MaxNameLength) return (null, at + ".name", $"a name is at most {MaxNameLength} characters");
            if (AttributeValues.Reserved.Contains(name)) return (null, at + ".name", $"'{name}' is kept for COCO's own field; choose another name");
            if (!names.Add(name)) return (null, at + ".name", $"the label already has an attribute named '{name}'");
            if (!Enum.IsDefined(a.Type)) return (null, at + ".type", "use text, number, select or checkbox");
            List<string>? options = null;
            if (a.Type == AttributeType.Select)
            {
                if (a.Options is not { Count: > 0 }) return (null, at + ".options", "a select needs at least one option");
                if (a.Options.Count > MaxOptions) return (null, at + ".options", $"a select has at most {MaxOptions} options");
                options = [];
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var raw in a.Options)
                {
                    string o = raw?.Trim() ?? "";
                    if (o.Length is 0 or > MaxOptionLength) return (null, at + ".options", $"an option is 1 to {MaxOptionLength} characters");
                    if (!seen.Add(o)) return (null, at + ".options", $"'{o}' is listed twice");
                    options.Add(o);
                }
            }
            else if (a.Options is { Count: > 0 }) return (null, at + ".options", $"only a select has options, not a {ApiNames(a.Type)}");
            var defined = new LabelAttribute(name, a.Type, options, null);
            JsonElement? dflt = a.Default is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } d ? d.Clone() : null;
            if (dflt is { } v && AttributeValues.ValueProblem(defined, v) is { } problem) return (null, at + ".default", problem);
            result.Add(defined with { Default = dflt });
        }
        return (result, null, null);
    }

    private static string ApiNames(AttributeType t) => Common.ApiEnum.Name(t);
}
