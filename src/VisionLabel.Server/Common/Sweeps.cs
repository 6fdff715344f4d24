namespace VisionLabel.Server.Common;

public static class Sweeps
{
    /// <summary>Deletes the files directly in <paramref name="folder"/> not written for <paramref name="maxAge"/>; returns how many.</summary>
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
        return removed;
    }
}
