using System.Globalization;
using System.Runtime.CompilerServices;
using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;
using VisionLabel.Server.Common;

namespace VisionLabel.Server.Storage;

/// <summary>
/// Blobs in an S3 bucket (MinIO in production) through the Minio SDK. Uploads stream (the SDK switches to multipart
/// above 5 MiB); reads are range GETs behind a seekable stream, so HTTP range requests reach the store as ranges; the
/// bucket is created on first use when missing. S3 PUTs are atomic, so readers never see half an object.
/// </summary>
public sealed class S3BlobStore : IBlobStore, IPresignedBlobs, IDisposable
{
    private readonly IMinioClient _client;
    private readonly IMinioClient _publicClient; // signs the URLs browsers get, for the host they reach the store by
    private readonly S3StorageOptions _options;
    private readonly Lazy<Task> _bucketReady;
    // Object reads: GETs of presigned URLs (see S3ObjectStream). Pooled connections, no overall timeout (big objects).
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };

    public S3BlobStore(S3StorageOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Endpoint))
            throw new InvalidOperationException("VisionLabel:Storage:S3:Endpoint is required when VisionLabel:Storage:Provider is s3 (host:port of the S3 API, e.g. minio:9000).");
        if (string.IsNullOrWhiteSpace(options.AccessKey) || string.IsNullOrWhiteSpace(options.SecretKey))
            throw new InvalidOperationException("VisionLabel:Storage:S3:AccessKey and SecretKey are required when VisionLabel:Storage:Provider is s3.");
        _options = options;
        var (endpoint, ssl) = S3StorageOptions.ParseEndpoint(options.Endpoint, options.UseSsl, "VisionLabel:Storage:S3:Endpoint");
        _client = new MinioClient().WithEndpoint(endpoint).WithCredentials(options.AccessKey, options.SecretKey)
            .WithRegion(options.Region).WithSSL(ssl).Build();
        if (options.PublicEndpoint is { Length: > 0 } publicSetting)
        {
            var (publicEndpoint, publicSsl) = S3StorageOptions.ParseEndpoint(publicSetting, options.PublicUseSsl ?? ssl, "VisionLabel:Storage:S3:PublicEndpoint");
            _publicClient = new MinioClient().WithEndpoint(publicEndpoint).WithCredentials(options.AccessKey, options.SecretKey)
                .WithRegion(options.Region).WithSSL(publicSsl).Build();
        }
        else _publicClient = _client;
        _bucketReady = new Lazy<Task>(() => EnsureBucketAsync(CancellationToken.None));
    }

    public string Bucket => _options.Bucket;

    /// <summary>Creates the bucket when it is missing. Runs once per process (at start-up and before the first request that needs it).</summary>
    public Task ReadyAsync() => _bucketReady.Value;

    private async Task EnsureBucketAsync(CancellationToken ct)
    {
        if (!await _client.BucketExistsAsync(new BucketExistsArgs().WithBucket(Bucket), ct))
            await _client.MakeBucketAsync(new MakeBucketArgs().WithBucket(Bucket).WithLocation(_options.Region), ct);
    }

    /// <summary>Whether the store answers and the bucket is there (for /health).</summary>
    public async Task<bool> ReachableAsync(CancellationToken ct)
    {
        try { return await _client.BucketExistsAsync(new BucketExistsArgs().WithBucket(Bucket), ct); }
        catch (Exception e) when (e is MinioException or HttpRequestException or TaskCanceledException) { return false; }
    }

    public Task PutAsync(string key, Stream content, CancellationToken ct = default) => PutAsync(key, content, ContentTypeOf(key, content), ct);

    private async Task PutAsync(string key, Stream content, string contentType, CancellationToken ct)
    {
        await ReadyAsync();
        long size = content.CanSeek ? content.Length - content.Position : -1; // unknown: the SDK uploads in parts
        await _client.PutObjectAsync(new PutObjectArgs().WithBucket(Bucket).WithObject(BlobKeys.Checked(key)).WithStreamData(content).WithObjectSize(size)
            .WithContentType(contentType), ct);
    }

    public async Task PutFileAsync(string key, string path, CancellationToken ct = default)
    {
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan))
            await PutAsync(key, file, ct);
        File.Delete(path); // the contract lets a store take the file; this one copies it, so the temp copy goes
    }

    public async Task<Stream?> OpenReadAsync(string key, CancellationToken ct = default)
    {
        await ReadyAsync();
        long? length = await LengthAsync(key, ct);
        return length is null ? null : new S3ObjectStream(_http, () => PresignAsync(key, TimeSpan.FromMinutes(10)), key, length.Value);
    }

    public async Task<bool> ExistsAsync(string key, CancellationToken ct = default)
    {
        await ReadyAsync();
        return await LengthAsync(key, ct) is not null;
    }

    public async Task DeleteAsync(string key, CancellationToken ct = default)
    {
        await ReadyAsync();
        await _client.RemoveObjectAsync(new RemoveObjectArgs().WithBucket(Bucket).WithObject(BlobKeys.Checked(key)), ct); // S3 deletes of missing keys succeed
    }

    /// <summary>S3 cannot set a modification time: the object is copied onto itself with new metadata, which makes it now.</summary>
    public async Task TouchAsync(string key, CancellationToken ct = default)
    {
        await ReadyAsync();
        try
        {
            await _client.CopyObjectAsync(new CopyObjectArgs().WithBucket(Bucket).WithObject(BlobKeys.Checked(key))
                .WithCopyObjectSource(new CopySourceObjectArgs().WithBucket(Bucket).WithObject(BlobKeys.Checked(key)))
                .WithReplaceMetadataDirective(true)
                .WithHeaders(new Dictionary<string, string>
                {
                    ["x-amz-meta-touched"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
                    ["Content-Type"] = (await _client.StatObjectAsync(new StatObjectArgs().WithBucket(Bucket).WithObject(BlobKeys.Checked(key)), ct)).ContentType,
                }), ct);
        }
        catch (ObjectNotFoundException) { }
    }

    public async IAsyncEnumerable<BlobEntry> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await ReadyAsync();
        await foreach (var item in _client.ListObjectsEnumAsync(new ListObjectsArgs().WithBucket(Bucket).WithPrefix(prefix).WithRecursive(true), ct))
            if (!item.IsDir) yield return new BlobEntry(item.Key, (item.LastModifiedDateTime ?? DateTime.UtcNow).ToUniversalTime());
    }

    public async Task<Uri?> PresignedGetAsync(string key, CancellationToken ct = default)
    {
        if (!_options.PresignedUrls) return null;
        await ReadyAsync();
        return await PresignAsync(key, _options.PresignedUrlLifetime, _publicClient);
    }

    /// <summary>Signing is local: no request goes to the store.</summary>
    private async Task<Uri> PresignAsync(string key, TimeSpan lifetime, IMinioClient? signer = null) =>
        new(await (signer ?? _client).PresignedGetObjectAsync(new PresignedGetObjectArgs().WithBucket(Bucket).WithObject(BlobKeys.Checked(key))
            .WithExpiry((int)Math.Clamp(lifetime.TotalSeconds, 1, 604_800))));

    private async Task<long?> LengthAsync(string key, CancellationToken ct)
    {
        try { return (await _client.StatObjectAsync(new StatObjectArgs().WithBucket(Bucket).WithObject(BlobKeys.Checked(key)), ct)).Size; }
        catch (ObjectNotFoundException) { return null; }
    }

    /// <summary>What a browser fetching the object by a presigned URL is told it is: the image type from its first
    /// bytes (originals have no extension in their keys), else binary.</summary>
    private static string ContentTypeOf(string key, Stream content)
    {
        if (!content.CanSeek) return key.EndsWith(".jpg", StringComparison.Ordinal) ? "image/jpeg" : "application/octet-stream";
        long start = content.Position;
        Span<byte> head = stackalloc byte[12];
        int n = content.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        content.Position = start;
        head = head[..n];
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return "image/jpeg";
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G'])) return "image/png";
        if (n == 12 && head[..4].SequenceEqual("RIFF"u8) && head[8..].SequenceEqual("WEBP"u8)) return "image/webp";
        return "application/octet-stream";
    }

    public void Dispose()
    {
        _http.Dispose();
        (_client as IDisposable)?.Dispose();
        if (!ReferenceEquals(_publicClient, _client)) (_publicClient as IDisposable)?.Dispose();
    }
}

/// <summary>A store that can hand browsers a URL to fetch a blob from directly; null when it should be streamed instead.</summary>
public interface IPresignedBlobs
{
    Task<Uri?> PresignedGetAsync(string key, CancellationToken ct = default);
}
