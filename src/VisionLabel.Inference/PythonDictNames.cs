using System.Text;

namespace VisionLabel.Inference;

/// <summary>
/// Ultralytics stores class names as a Python dict literal: {0: 'person', 1: "o'clock", 2: 'a\'b'}.
/// This reads exactly that shape (int keys, single- or double-quoted strings with backslash escapes).
/// </summary>
public static class PythonDictNames
{
    public static IReadOnlyList<string>? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var names = new SortedDictionary<int, string>();
        int i = 0;
        void SkipSpace() { while (i < text.Length && char.IsWhiteSpace(text[i])) i++; }
        SkipSpace();
        if (i >= text.Length || text[i++] != '{') return null;
        while (true)
        {
            SkipSpace();
            if (i < text.Length && text[i] == '}') break;
            int start = i;
            while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '-')) i++;
            if (!int.TryParse(text.AsSpan(start, i - start), out int key)) return null;
            SkipSpace();
            if (i >= text.Length || text[i++] != ':') return null;
            SkipSpace();
            if (i >= text.Length || text[i] is not ('\'' or '"')) return null;
            char quote = text[i++];
            var value = new StringBuilder();
            while (i < text.Length && text[i] != quote)
            {
                if (text[i] == '\\' && i + 1 < text.Length) i++;
                value.Append(text[i++]);
            }
            if (i >= text.Length) return null;
            i++;
            names[key] = value.ToString();
            SkipSpace();
            if (i < text.Length && text[i] == ',') { i++; continue; }
            SkipSpace();
            if (i < text.Length && text[i] == '}') break;
            return null;
        }
        // Keys must be 0..n-1: a class index is a position in the output.
        return names.Keys.SequenceEqual(Enumerable.Range(0, names.Count)) ? names.Values.ToList() : null;
    }

    /// <summary>A names file: one class name per line (blank lines ignored).</summary>
    public static IReadOnlyList<string> FromLines(string text) =>
        text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
}
