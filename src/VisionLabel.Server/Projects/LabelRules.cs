using System.Text.RegularExpressions;

namespace VisionLabel.Server.Projects;

public static partial class LabelRules
{
    // A palette with distinguishable hues, handed out in order to labels created without a colour.
    private static readonly string[] Palette =
    [
        "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
        "#bfef45", "#fabed4", "#469990", "#dcbeff", "#9a6324", "#fffac8", "#800000", "#aaffc3",
    ];

    public static string DefaultColor(int index) => Palette[index % Palette.Length];

    /// <summary>Normalises "#RRGGBB" to lower case; null if the text is not a colour.</summary>
    public static string? NormalizeColor(string color) => HexColor().IsMatch(color) ? color.ToLowerInvariant() : null;

    /// <summary>The keys labels can have, in the order new labels get them: the digits (1…9, then 0), then ten letters the
    /// editor uses for nothing else (its tools and commands keep theirs: web/src/editor/tools, shortcuts.ts). A browser
    /// keeps Ctrl/Alt+digit for its tabs, so a second bank of digits is not to be had. Shift with a label's key relabels
    /// the selected shapes.</summary>
    public static readonly IReadOnlyList<string> Hotkeys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "q", "w", "t", "u", "o", "d", "g", "j", "n", "z"];

    /// <summary>The first key no other label of the project has; null when all are taken.</summary>
    public static string? NextHotkey(IEnumerable<string?> taken)
    {
        var used = taken.Where(k => k is not null).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return Hotkeys.FirstOrDefault(k => !used.Contains(k));
    }

    /// <summary>A hotkey as stored ("Q" → "q"), or null when the text is not one of <see cref="Hotkeys"/>.</summary>
    public static string? NormalizeHotkey(string text) => Hotkeys.FirstOrDefault(k => string.Equals(k, text.Trim(), StringComparison.OrdinalIgnoreCase));

    public static readonly string HotkeyHelp = $"a label's key is one of {string.Join(" ", Hotkeys)} (empty: none)";

    /// <summary>A key as asked for: "" is none (null key, no problem); else the stored form, or what is wrong with it.</summary>
    public static string? HotkeyProblem(string asked, out string? hotkey)
    {
        hotkey = asked.Trim().Length == 0 ? null : NormalizeHotkey(asked);
        return asked.Trim().Length > 0 && hotkey is null ? $"'{asked}' is not a label key: {HotkeyHelp}." : null;
    }

    public static string? NameProblem(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "a name is required" :
        name.Trim().Length > 200 ? "a name is at most 200 characters" : null;

    [GeneratedRegex("^#[0-9a-fA-F]{6}$")]
    private static partial Regex HexColor();
}
