namespace VisionLabel.Server.Common;

public static class Sweeps
{
    /// <summary>Deletes the files directly in <paramref name="folder"/>, and its folders, not written for <paramref name="maxAge"/>; returns how many.</summary>
    public static int DeleteOlderThan(string folder, TimeSpan maxAge)
    {
        if (!Directory.Exists(folder)) return 0;
        var cutoff = DateTime.UtcNow - maxAge;
        int removed = 0;
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            try
            {
                if (File.GetLastWriteTimeUtc(file) > cutoff) continue;
                File.Delete(file);
                removed++;
            }
            catch (IOException) { } // in use or gone: the next sweep looks again
            catch (UnauthorizedAccessException) { }
        }
        // Work folders (a pyramid being cut) left by a process that stopped: by their newest write, whole.
        foreach (var dir in Directory.EnumerateDirectories(folder))
        {
            try
            {
                var newest = Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Select(File.GetLastWriteTimeUtc)
                    .Append(Directory.GetLastWriteTimeUtc(dir)).Max();
                if (newest > cutoff) continue;
                Directory.Delete(dir, recursive: true);
                removed++;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return removed;
    }
}
