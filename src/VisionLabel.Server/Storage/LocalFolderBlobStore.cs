using VisionLabel.Server.Common;

namespace VisionLabel.Server.Storage;

/// <summary>
/// Blobs as files under one folder. Writes go to a temp file inside the same folder, are flushed to disk,
/// then renamed over the final name: rename is atomic on one file system, so a crash leaves either nothing
/// or the whole file.
/// </summary>
public sealed class LocalFolderBlobStore : IBlobStore
{
    private readonly string _root;
    private readonly string _staging;

    public LocalFolderBlobStore(string root)
    {
        _root = Path.GetFullPath(root);
        _staging = Path.Combine(_root, ".staging");
        Directory.CreateDirectory(_staging);
    }

    /// <summary>Whether the folder is there and takes a write (the readiness probe): a full disk or a lost mount says no.</summary>
    public bool Writable()
    {
        try
        {
            string probe = Path.Combine(_staging, "ready-" + Guid.NewGuid().ToString("N"));
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    public async Task PutAsync(string key, Stream content, CancellationToken ct = default)
    {
        string final = PathOf(key);
        string temp = Path.Combine(_staging, Guid.NewGuid().ToString("N"));
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, ct);
                file.Flush(flushToDisk: true);
            }
            Commit(temp, final);
        }
        finally { File.Delete(temp); }
    }

    public Task PutFileAsync(string key, string path, CancellationToken ct = default)
    {
        string final = PathOf(key);
        string temp = Path.Combine(_staging, Guid.NewGuid().ToString("N"));
        try
        {
            File.Move(path, temp); // a rename when on the same file system, a copy otherwise; either way not yet visible
            Commit(temp, final);
        }
        finally { File.Delete(temp); }
        return Task.CompletedTask;
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken ct = default)
    {
        try
        {
            Stream s = new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16,
                FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult<Stream?>(s);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<bool> ExistsAsync(string key, CancellationToken ct = default) => Task.FromResult(File.Exists(PathOf(key)));

    public Task DeleteAsync(string key, CancellationToken ct = default)
    {
        File.Delete(PathOf(key));
        return Task.CompletedTask;
    }

    public Task TouchAsync(string key, CancellationToken ct = default)
    {
        try { File.SetLastWriteTimeUtc(PathOf(key), DateTime.UtcNow); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { }
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<BlobEntry> ListAsync(string prefix, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        string folder = Path.Combine(_root, prefix.TrimEnd('/'));
        if (!Directory.Exists(folder)) yield break;
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            ct.ThrowIfCancellationRequested();
            string key = Path.GetRelativePath(_root, file).Replace(Path.DirectorySeparatorChar, '/');
            DateTime modified;
            try { modified = File.GetLastWriteTimeUtc(file); } catch (IOException) { continue; }
            yield return new BlobEntry(key, modified);
        }
        await Task.CompletedTask;
    }

    /// <summary>Half-written files a crash left in the staging folder, older than <paramref name="maxAge"/>; returns how many went.</summary>
    public int SweepStaging(TimeSpan maxAge) => Sweeps.DeleteOlderThan(_staging, maxAge);

    private static void Commit(string temp, string final)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        File.Move(temp, final, overwrite: true);
    }

    private string PathOf(string key) => Path.Combine(_root, BlobKeys.Checked(key));
}
