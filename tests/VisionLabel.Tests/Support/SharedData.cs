namespace VisionLabel.Tests.Support;

/// <summary>
/// The real models and datasets live in ../shared beside the repository, not in it. Tests that need them
/// call <see cref="Require"/>, which skips the test with a message naming what is missing.
/// </summary>
public static class SharedData
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Root => Environment.GetEnvironmentVariable("VISIONLABEL_SHARED") is { Length: > 0 } dir
        ? Path.GetFullPath(dir)
        : Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));

    public static string Coco128Images => Path.Combine(Root, "datasets", "coco128", "images", "train2017");

    public static string Require(string relativePath)
    {
        string path = Path.Combine(Root, relativePath);
        if (!File.Exists(path) && !Directory.Exists(path))
            Requirement.Missing($"needs {path} (the shared models/datasets folder beside the repository, or VISIONLABEL_SHARED); it is missing");
        return path;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "VisionLabel.sln"))) return dir.FullName;
        throw new InvalidOperationException("VisionLabel.sln not found above " + AppContext.BaseDirectory);
    }
}

public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "visionlabel-tests", Guid.NewGuid().ToString("N"));

    public TempDirectory() => Directory.CreateDirectory(Path);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
