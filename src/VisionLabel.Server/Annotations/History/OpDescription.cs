using System.Text.Json.Nodes;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// What an op did, in a few words, from its normalised changes and the previous values its inverse kept (so a
/// relabel names both labels and a rejection says whether it was a proposal). Pure: the history's one wording.
/// </summary>
internal static class OpDescription
{
    /// <param name="changes">The op's changes as stored (a create's full state; an update's set properties; a delete's {}).</param>
    /// <param name="previous">The inverse's changes: an update's previous values, a delete's full state (null for a create).</param>
    /// <param name="kind">The annotation's kind at this op ("box"), or "" when not known.</param>
    /// <param name="label">The annotation's label name at this op, or "" when not known.</param>
    /// <param name="labelName">A label id's name, for a relabel's old and new labels.</param>
    public static string Describe(OpType type, JsonObject changes, JsonObject? previous, long? undoOf, long? redoOf, string kind, string label, Func<Guid?, string> labelName)
    {
        // The op an undo or redo reverted is the one to read about; the item still carries its own type, label and kind.
        if (undoOf is { } undone) return $"undo of #{undone}";
        if (redoOf is { } redone) return $"redo (reverts the undo #{redone})";
        string what = Words(kind, label);
        switch (type)
        {
            case OpType.Create:
                bool byModel = changes["source"]?["type"]?.GetValue<string>() == "model";
                return Words(byModel ? "proposed" : "created", what);
            case OpType.Delete:
                return Words("deleted", what);
        }
        var parts = new List<string>();
        if (changes.ContainsKey("labelId"))
            parts.Add($"relabelled {labelName(GuidOf(previous?["labelId"]))} → {labelName(GuidOf(changes["labelId"]))}");
        if (changes.ContainsKey("geometry"))
        {
            string? before = previous?["kind"]?.GetValue<string>(), after = changes["kind"]?.GetValue<string>();
            parts.Add(before is not null && after is not null && before != after ? $"converted {before} → {after}" : "moved/reshaped");
        }
        if (changes["state"]?.GetValue<string>() is { } state)
            parts.Add(state switch
            {
                "accepted" => "accepted",
                "rejected" => previous?["state"]?.GetValue<string>() == "proposed" ? "rejected proposal" : "rejected",
                _ => "set back to proposed",
            });
        if (changes.ContainsKey("attributes")) parts.Add("set attributes");
        return parts.Count > 0 ? string.Join(", ", parts) : "changed";
    }

    private static string Words(params string[] words) => string.Join(' ', words.Where(w => w.Length > 0));

    private static Guid? GuidOf(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) && Guid.TryParse(s, out var g) ? g : null;
}
