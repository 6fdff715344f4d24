namespace VisionLabel.Server.Common;

/// <summary>Section "VisionLabel". Every path defaults to a place under <see cref="DataDirectory"/>.</summary>
public sealed class VisionLabelOptions
{
    public const string Section = "VisionLabel";

    /// <summary>Root of everything the server keeps on local disk by default (database, blobs, temp uploads).</summary>
    public string DataDirectory { get; set; } = "data";

    public string ResolvedDataDirectory => Path.GetFullPath(DataDirectory);
    public string TempDirectory => Path.Combine(ResolvedDataDirectory, "tmp");
}

/// <summary>Section "VisionLabel:Database".</summary>
public sealed class DatabaseOptions
{
    public const string Section = "VisionLabel:Database";

    /// <summary>"sqlite" (embedded default) or "postgres".</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>Defaults to a SQLite file in the data directory. Required for postgres.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// SQLite only: "normal" (default) syncs the write-ahead log at checkpoints, not at every commit. A process
    /// crash loses nothing; an OS crash or power cut may lose the last commits. "full" syncs every commit
    /// (several times slower for live editing). PostgreSQL, the production database, is not affected.
    /// </summary>
    public string SqliteSynchronous { get; set; } = "normal";
}

/// <summary>Section "VisionLabel:Storage".</summary>
public sealed class StorageOptions
{
    public const string Section = "VisionLabel:Storage";

    /// <summary>"local" (embedded default: a folder) or "s3" (MinIO or any S3-compatible store; see S3).</summary>
    public string Provider { get; set; } = "local";

    /// <summary>Folder for the local blob store; defaults to DATA/blobs.</summary>
    public string? LocalPath { get; set; }

    public S3StorageOptions S3 { get; set; } = new();
}

/// <summary>Section "VisionLabel:Storage:S3": where the S3/MinIO store is and how to reach it.</summary>
public sealed class S3StorageOptions
{
    /// <summary>host:port of the S3 API, e.g. "minio:9000" (UseSsl picks TLS), or a URL whose scheme picks it ("https://s3.example.com").</summary>
    public string? Endpoint { get; set; }
    public string Bucket { get; set; } = "visionlabel";
    public string? AccessKey { get; set; }
    public string? SecretKey { get; set; }
    public string Region { get; set; } = "us-east-1";
    public bool UseSsl { get; set; }

    /// <summary>
    /// Browsers fetch originals and thumbnails straight from the store through presigned GET URLs (the API answers
    /// 302) when true; set false when browsers cannot reach Endpoint, and the server streams them instead.
    /// </summary>
    public bool PresignedUrls { get; set; } = true;

    /// <summary>host:port of the store as browsers reach it, when that differs from Endpoint (e.g. "minio:9000" inside
    /// the compose network, "files.example.com" outside); presigned URLs are signed for this host.</summary>
    public string? PublicEndpoint { get; set; }

    /// <summary>Whether browsers reach PublicEndpoint over HTTPS; defaults to UseSsl.</summary>
    public bool? PublicUseSsl { get; set; }

    /// <summary>How long a presigned URL stays valid.</summary>
    public TimeSpan PresignedUrlLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// host:port and TLS from an endpoint setting. "minio:9000" keeps <paramref name="useSsl"/>; a URL such as
    /// "https://s3.example.com" or "http://minio:9000" is accepted too, its scheme setting TLS (the SDK itself takes
    /// only host:port and failed with "MinIO API responded with message=endpoint"). Anything else is refused, naming the key.
    /// </summary>
    public static (string HostPort, bool UseSsl) ParseEndpoint(string value, bool useSsl, string key)
    {
        var (hostPort, ssl, problem) = TryParseEndpoint(value, useSsl);
        return problem is null ? (hostPort!, ssl) : throw new InvalidOperationException($"{key} {problem}");
    }

    /// <summary>As <see cref="ParseEndpoint"/>, with the problem ("'x' is not …") instead of an exception.</summary>
    public static (string? HostPort, bool UseSsl, string? Problem) TryParseEndpoint(string value, bool useSsl)
    {
        value = value.Trim();
        if (!value.Contains("://"))
        {
            // host, host:port, [v6]:port; read as a URL's authority so a bad port or a path is caught here, not by the SDK.
            if (!Uri.TryCreate("http://" + value, UriKind.Absolute, out var hostPort) || hostPort.AbsolutePath != "/" || value.EndsWith('/') ||
                hostPort.Query.Length > 0 || hostPort.UserInfo.Length > 0 || value.Contains('/'))
                return (null, false, $"'{value}' is not host:port (e.g. minio:9000) or a URL (e.g. https://s3.example.com)");
            return (value, useSsl, null);
        }
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" ||
            uri.Query.Length > 0 || uri.UserInfo.Length > 0)
            return (null, false, $"'{value}' is not usable: give host:port (e.g. minio:9000) or an http(s) URL with no path (e.g. https://s3.example.com)");
        return (uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}", uri.Scheme == "https", null);
    }
}

/// <summary>Section "VisionLabel:Images".</summary>
public sealed class ImageIntakeOptions
{
    public const string Section = "VisionLabel:Images";

    /// <summary>Images with more pixels than this are refused at upload (decompression bombs, scans nobody can label).
    /// Large ones are never decoded whole: they are checked in strips and shown from a pyramid of tiles.</summary>
    public long MaxPixels { get; set; } = 1_000_000_000;

    /// <summary>Images over this many pixels (and every TIFF) get a tile pyramid (a job after upload), are checked in strips
    /// at upload instead of decoded whole, and are shown from tiles.</summary>
    public long PyramidAbovePixels { get; set; } = 40_000_000;

    /// <summary>Largest single file accepted.</summary>
    public long MaxFileBytes { get; set; } = 1L << 30;

    /// <summary>Largest upload request (all files together). Kestrel's 30 MB default is lifted to this on the upload endpoint only.</summary>
    public long MaxRequestBytes { get; set; } = 50L << 30;

    public int ThumbnailSize { get; set; } = 256;
}
