using System.Buffers;
using System.Security.Cryptography;

namespace VisionLabel.Server.Storage;

/// <summary>Copies an upload stream to a local temp file while hashing it: memory stays flat whatever the size.</summary>
public static class UploadSpooler
{
    public readonly record struct Spooled(string Sha256, long Length, bool TooLarge);

    /// <summary>
    /// Writes at most <paramref name="maxBytes"/>; past that it keeps reading (so the next multipart section can
    /// be reached) but stores nothing more and reports TooLarge.
    /// </summary>
    public static async Task<Spooled> SpoolAsync(Stream content, string path, long maxBytes, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        long length = 0;
        bool tooLarge = false;
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            int read;
            while ((read = await content.ReadAsync(buffer, ct)) > 0)
            {
                length += read;
                if (length > maxBytes) { tooLarge = true; continue; }
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), ct);
            }
            file.Flush(flushToDisk: true);
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
        return new Spooled(tooLarge ? "" : Convert.ToHexStringLower(hash.GetHashAndReset()), length, tooLarge);
    }
}
