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

    public static string? NameProblem(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "a name is required" :
        name.Trim().Length > 200 ? "a name is at most 200 characters" : null;

    [GeneratedRegex("^#[0-9a-fA-F]{6}$")]
    private static partial Regex HexColor();
}
