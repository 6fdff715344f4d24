using Microsoft.Extensions.Options;
using VisionLabel.Server.Common;

namespace VisionLabel.Server.Storage;

public static class StorageSetup
{
    /// <summary>The blob store the configuration names: a local folder (default) or an S3 bucket.</summary>
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<StorageOptions>(configuration, StorageOptions.Section, Rules);
        services.AddSingleton<IBlobStore>(sp => Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp.GetRequiredService<IOptions<VisionLabelOptions>>().Value));
        return services;
    }

    private static IBlobStore Create(StorageOptions storage, VisionLabelOptions app) => storage.Provider.ToLowerInvariant() switch
    {
        "local" => new LocalFolderBlobStore(storage.LocalPath ?? Path.Combine(app.ResolvedDataDirectory, "blobs")),
        "s3" or "minio" => new S3BlobStore(storage.S3),
        _ => throw new InvalidOperationException($"VisionLabel:Storage:Provider '{storage.Provider}' is not known; use local or s3."),
    };

    private static IEnumerable<(string, string)> Rules(StorageOptions o)
    {
        foreach (var p in ValidatedOptions.OneOf("Provider", o.Provider, "local", "s3", "minio")) yield return p;
        if (o.Provider.ToLowerInvariant() is not ("s3" or "minio")) yield break;
        if (string.IsNullOrWhiteSpace(o.S3.Endpoint)) yield return ("S3:Endpoint", "is required when Provider is s3 (host:port of the S3 API, e.g. minio:9000, or a URL)");
        else if (S3StorageOptions.TryParseEndpoint(o.S3.Endpoint, o.S3.UseSsl).Problem is { } endpoint) yield return ("S3:Endpoint", endpoint);
        if (o.S3.PublicEndpoint is { Length: > 0 } pub && S3StorageOptions.TryParseEndpoint(pub, o.S3.UseSsl).Problem is { } publicProblem)
            yield return ("S3:PublicEndpoint", publicProblem);
        if (string.IsNullOrWhiteSpace(o.S3.AccessKey) || string.IsNullOrWhiteSpace(o.S3.SecretKey)) yield return ("S3:AccessKey", "and SecretKey are required when Provider is s3");
        if (string.IsNullOrWhiteSpace(o.S3.Bucket)) yield return ("S3:Bucket", "is required");
        if (o.S3.PresignedUrlLifetime < TimeSpan.FromMinutes(1) || o.S3.PresignedUrlLifetime > TimeSpan.FromDays(7))
            yield return ("S3:PresignedUrlLifetime", $"must be between 00:01:00 and 7.00:00:00 (S3's limit), not {o.S3.PresignedUrlLifetime}");
    }
}
