namespace VisionLabel.Server.Storage;

/// <summary>
/// Where image files and derived files (thumbnails) live: a local folder by default, S3/MinIO in production.
/// Keys are content-addressed (see <see cref="BlobKeys"/>), so a key's bytes never change once written and
/// writing the same key twice is harmless.
/// </summary>
public interface IBlobStore
{
    /// <summary>Writes atomically: readers see the old state or the whole new object, never a partial one.</summary>
    Task PutAsync(string key, Stream content, CancellationToken ct = default);

    /// <summary>Stores a local file under a key; the store may move the file instead of copying it.</summary>
    Task PutFileAsync(string key, string path, CancellationToken ct = default);

    /// <summary>A stream over the object, or null if the key does not exist.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken ct = default);

    Task<bool> ExistsAsync(string key, CancellationToken ct = default);

    Task DeleteAsync(string key, CancellationToken ct = default);

    /// <summary>Marks the object as just used (its last-modified time becomes now), so a sweep's grace period starts again.</summary>
    Task TouchAsync(string key, CancellationToken ct = default);

    /// <summary>Every object whose key starts with <paramref name="prefix"/>, with its last-modified time.</summary>
    IAsyncEnumerable<BlobEntry> ListAsync(string prefix, CancellationToken ct = default);
}

public readonly record struct BlobEntry(string Key, DateTime LastModifiedUtc);

public static partial class BlobKeys
{
    /// <summary>Keys are relative paths of safe characters, the same for every store; anything that could escape a
    /// folder (or name another bucket's object) is a bug, not input, and throws.</summary>
    public static string Checked(string key)
    {
        if (!SafeKey().IsMatch(key) || key.Contains("..", StringComparison.Ordinal))
            throw new ArgumentException($"invalid blob key '{key}'", nameof(key));
        return key;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[a-z0-9][a-z0-9/._-]*$")]
    private static partial System.Text.RegularExpressions.Regex SafeKey();

    /// <summary>Original upload, by SHA-256: "originals/ab/cd/abcd…". Shared by every project holding the same bytes.</summary>
    public static string Original(string sha256Hex) => $"originals/{sha256Hex[..2]}/{sha256Hex[2..4]}/{sha256Hex}";

    public static string Thumbnail(string sha256Hex, int size) => $"thumbnails/{size}/{sha256Hex[..2]}/{sha256Hex}.jpg";

    public static string Model(string sha256Hex) => $"models/{sha256Hex[..2]}/{sha256Hex}.onnx";

    /// <summary>A Deep Zoom pyramid of an original, by its hash: "pyramids/ab/abcd…/tiles.dzi" and
    /// "…/tiles_files/{level}/{col}_{row}.jpg" (the layout libvips' dzsave writes). The .dzi is stored last: it is there
    /// only when every tile is.</summary>
    public static string PyramidFolder(string sha256Hex) => $"pyramids/{sha256Hex[..2]}/{sha256Hex}/";

    public static string PyramidDzi(string sha256Hex) => PyramidFolder(sha256Hex) + "tiles.dzi";

    public static string PyramidTile(string sha256Hex, int level, int col, int row) => PyramidFolder(sha256Hex) + $"tiles_files/{level}/{col}_{row}.jpg";

    /// <summary>The content hash a key was made from (originals, thumbnails and models are all named by it), or null.</summary>
    public static string? HashOf(string key)
    {
        string name = key[(key.LastIndexOf('/') + 1)..];
        int dot = name.IndexOf('.');
        string hash = dot < 0 ? name : name[..dot];
        return hash.Length == 64 && hash.All(char.IsAsciiHexDigitLower) ? hash : null;
    }
}

public static class BlobStoreExtensions
{
    /// <summary>The whole object in memory (decoders and ONNX Runtime take byte arrays), or null if the key does not exist.</summary>
    public static async Task<byte[]?> ReadAllBytesAsync(this IBlobStore blobs, string key, CancellationToken ct = default)
    {
        await using var stream = await blobs.OpenReadAsync(key, ct);
        if (stream is null) return null;
        using var buffer = stream.CanSeek ? new MemoryStream(checked((int)stream.Length)) : new MemoryStream();
        await stream.CopyToAsync(buffer, ct);
        return buffer.ToArray();
    }

    /// <summary>Copies the object into a new file at <paramref name="path"/> (libvips reads files: a large image is
    /// never held in memory); a missing object throws <see cref="FileNotFoundException"/>.</summary>
    public static async Task CopyToFileAsync(this IBlobStore blobs, string key, string path, CancellationToken ct = default)
    {
        await using var source = await blobs.OpenReadAsync(key, ct) ?? throw new FileNotFoundException($"the stored file {key} is missing");
        await using var file = File.Create(path);
        await source.CopyToAsync(file, ct);
    }
}
