using VisionLabel.Server.Common;
using VisionLabel.Server.Storage;

namespace VisionLabel.Tests;

/// <summary>
/// Issue #20, bug 9: VisionLabel:Storage:S3:Endpoint given as http://host:9000 failed at start with the SDK's
/// "MinIO API responded with message=endpoint". A URL is accepted (its scheme sets TLS); anything else is refused
/// naming the key.
/// </summary>
[Trait("Tier", Tiers.Unit)]
public class S3EndpointTests
{
    [Theory]
    [InlineData("minio:9000", false, "minio:9000", false)]
    [InlineData("minio:9000", true, "minio:9000", true)]
    [InlineData("http://minio:9000", true, "minio:9000", false)]
    [InlineData("https://s3.example.com", false, "s3.example.com", true)]
    [InlineData("https://s3.example.com:8443/", false, "s3.example.com:8443", true)]
    [InlineData(" http://127.0.0.1:9000 ", false, "127.0.0.1:9000", false)]
    [InlineData("[::1]:9000", false, "[::1]:9000", false)]
    public void An_endpoint_is_host_port_or_a_url_whose_scheme_sets_tls(string setting, bool useSsl, string hostPort, bool tls) =>
        Assert.Equal((hostPort, tls), S3StorageOptions.ParseEndpoint(setting, useSsl, "VisionLabel:Storage:S3:Endpoint"));

    [Theory]
    [InlineData("http://minio:9000/bucket")]
    [InlineData("ftp://minio:9000")]
    [InlineData("minio:9000/bucket")]
    [InlineData("minio:abc")]
    [InlineData("https://user:pw@minio:9000")]
    [InlineData("http://minio:9000?x=1")]
    public void Anything_else_is_refused_naming_the_key(string setting)
    {
        var e = Assert.Throws<InvalidOperationException>(() => S3StorageOptions.ParseEndpoint(setting, false, "VisionLabel:Storage:S3:Endpoint"));
        Assert.Contains("VisionLabel:Storage:S3:Endpoint", e.Message);
        Assert.Contains("host:port", e.Message);
    }
}

/// <summary>The S3 store reached through an endpoint given as a URL, on the real S3-protocol test server.</summary>
[Trait("Tier", Tiers.System)]
public class S3EndpointUrlTests
{
    [Fact]
    public async Task A_store_configured_with_an_http_url_reads_and_writes()
    {
        var options = S3Server.RequireBucket();
        options.Endpoint = "http://" + options.Endpoint;
        options.UseSsl = true; // the URL's scheme wins
        using var store = new S3BlobStore(options);
        await store.PutAsync("checks/url.txt", new MemoryStream("through a URL"u8.ToArray()), TestContext.Current.CancellationToken);
        Assert.Equal("through a URL"u8.ToArray(), await store.ReadAllBytesAsync("checks/url.txt", TestContext.Current.CancellationToken));
    }
}
