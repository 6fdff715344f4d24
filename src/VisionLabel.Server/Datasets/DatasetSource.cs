using System.IO.Compression;

namespace VisionLabel.Server.Datasets;

/// <summary>The files of a dataset, by path relative to its root ('/'-separated), from a folder or a zip.</summary>
public interface IDatasetSource : IDisposable
{
    IReadOnlyList<string> Files { get; }
    Stream Open(string path);
}

public sealed class FolderSource : IDatasetSource
{
    private readonly string _root;
    private readonly Dictionary<string, string> _extra;

    /// <param name="include">Which files under the root belong to the dataset (default: all).</param>
    /// <param name="extra">Files from elsewhere, by the relative path they take in the dataset (e.g. a data.yaml kept beside the folder).</param>
    public FolderSource(string root, Func<string, bool>? include = null, Dictionary<string, string>? extra = null)
    {
        _root = Path.GetFullPath(root);
        if (!Directory.Exists(_root)) throw new DatasetException($"folder not found: {_root}");
        _extra = extra ?? [];
        Files = Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(_root, f).Replace('\\', '/')).Where(f => include?.Invoke(f) ?? true)
            .Concat(_extra.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The dataset a CLI --path names: a folder; a zip; a COCO .json (its dataset root is the folder above
    /// annotations/); or an Ultralytics .yaml, whose images are in the folder named like it beside it (coco128.yaml
    /// and coco128/), or where its 'path' points.
    /// </summary>
    public static IDatasetSource FromPath(string path, DatasetOptions options)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) return new FolderSource(full);
        if (!File.Exists(full)) throw new DatasetException($"no file or folder at {full}");
        string dir = Path.GetDirectoryName(full)!;
        switch (Path.GetExtension(full).ToLowerInvariant())
        {
            case ".zip":
            {
                var file = File.OpenRead(full);
                try { return new ZipSource(file, options, ownsStream: true); }
                catch { file.Dispose(); throw; }
            }
            case ".json":
            {
                string root = Path.GetFileName(dir) == "annotations" ? Path.GetDirectoryName(dir)! : dir;
                string self = Path.GetRelativePath(root, full).Replace('\\', '/');
                return new FolderSource(root, f => !f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || f == self);
            }
            case ".yaml" or ".yml":
            {
                string beside = Path.Combine(dir, Path.GetFileNameWithoutExtension(full));
                string? declared = File.ReadLines(full).Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("path:"))?["path:".Length..].Split('#')[0].Trim();
                string root = Directory.Exists(beside) ? beside
                    : declared is { Length: > 0 } && Directory.Exists(Path.Combine(dir, declared)) ? Path.Combine(dir, declared)
                    : dir;
                return new FolderSource(root, f => !f.EndsWith(".yaml") && !f.EndsWith(".yml"), new() { ["data.yaml"] = full });
            }
            default:
                throw new DatasetException($"{full}: give a folder, a .zip, a COCO .json or a YOLO .yaml");
        }
    }

    public IReadOnlyList<string> Files { get; }
    public Stream Open(string path) => File.OpenRead(_extra.TryGetValue(path, out var outside) ? outside : Path.Combine(_root, path));
    public void Dispose() { }
}

/// <summary>
/// A zip, checked before anything is read: every entry name must stay inside the dataset (no "..", no absolute
/// or drive paths), and the archive must not expand past the configured size or compression ratio (zip bombs).
/// Entries are also counted while they are read, because the sizes in the headers can lie.
/// </summary>
public sealed class ZipSource : IDatasetSource
{
    private readonly ZipArchive _zip;
    private readonly Dictionary<string, ZipArchiveEntry> _entries = new(StringComparer.Ordinal);
    private readonly DatasetOptions _limits;
    private long _expanded;

    private readonly Stream? _owned;

    public ZipSource(Stream zipFile, DatasetOptions limits, bool ownsStream = false)
    {
        _limits = limits;
        _owned = ownsStream ? zipFile : null;
        try { _zip = new ZipArchive(zipFile, ZipArchiveMode.Read); }
        catch (InvalidDataException e) { throw new DatasetException($"the upload is not a readable zip archive ({e.Message})"); }
        long declared = 0;
        foreach (var entry in _zip.Entries)
        {
            string name = entry.FullName;
            if (name.EndsWith('/')) continue; // a folder
            if (UnsafeName(name)) throw new DatasetException($"zip entry '{name}' points outside the dataset folder (absolute path or '..'); refusing the archive");
            declared += entry.Length;
            if (declared > limits.MaxExpandedBytes)
                throw new DatasetException($"the archive expands to more than {limits.MaxExpandedBytes:N0} bytes (VisionLabel:Datasets:MaxExpandedBytes); refusing it");
            if (entry.Length > 1 << 20 && entry.CompressedLength > 0 && entry.Length / entry.CompressedLength > limits.MaxCompressionRatio)
                throw new DatasetException($"zip entry '{name}' expands {entry.Length / entry.CompressedLength}:1 (limit {limits.MaxCompressionRatio}:1, VisionLabel:Datasets:MaxCompressionRatio); refusing a likely zip bomb");
            _entries[name] = entry;
        }
        Files = _entries.Keys.Order(StringComparer.Ordinal).ToList();
    }

    private static bool UnsafeName(string name) =>
        name.Contains('\\') || name.StartsWith('/') || (name.Length > 1 && name[1] == ':') ||
        name.Split('/').Any(part => part == "..") || name.Contains('\0');

    public IReadOnlyList<string> Files { get; }

    public Stream Open(string path)
    {
        var entry = _entries[path];
        return new CountingStream(entry.Open(), entry.Length, this, path);
    }

    public void Dispose()
    {
        _zip.Dispose();
        _owned?.Dispose();
    }

    /// <summary>Fails a read that goes past the entry's declared size or the archive's total budget.</summary>
    private sealed class CountingStream(Stream inner, long declared, ZipSource owner, string name) : Stream
    {
        private long _read;

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => Count(await inner.ReadAsync(buffer, ct));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        private int Count(int n)
        {
            _read += n;
            owner._expanded += n;
            if (_read > declared) throw new DatasetException($"zip entry '{name}' holds more data than its header declares; refusing the archive");
            if (owner._expanded > owner._limits.MaxExpandedBytes)
                throw new DatasetException($"the archive expands to more than {owner._limits.MaxExpandedBytes:N0} bytes (VisionLabel:Datasets:MaxExpandedBytes); refusing it");
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => declared;
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
    }
}

public sealed class DatasetOptions
{
    public const string Section = "VisionLabel:Datasets";
    /// <summary>Most bytes an uploaded archive may expand to.</summary>
    public long MaxExpandedBytes { get; set; } = 64L << 30;
    /// <summary>Largest expansion ratio allowed for an entry over 1 MiB (images barely compress; JSON ~10:1).</summary>
    public long MaxCompressionRatio { get; set; } = 100;
    /// <summary>Most bytes of an uploaded archive.</summary>
    public long MaxUploadBytes { get; set; } = 32L << 30;
}
