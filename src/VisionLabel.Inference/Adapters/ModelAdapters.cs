namespace VisionLabel.Inference;

/// <summary>Every model family, in the order they are tried on an unknown graph. A new family: its file, and a line here.</summary>
public static class ModelAdapters
{
    public static IReadOnlyList<IModelAdapter> All { get; } = [new UltralyticsAdapter(), new YoloxAdapter()];

    public static IModelAdapter For(ModelFamily family) => All.First(a => a.Family == family);

    public static IReadOnlyList<string> Generated(int count) => Enumerable.Range(0, count).Select(i => $"class{i}").ToList();
}
