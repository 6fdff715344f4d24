using VisionLabel.Server.Common;

namespace VisionLabel.Tests.Support;

/// <summary>
/// The S3-protocol server given by VISIONLABEL_TEST_S3 (host:port), which tests/run starts (tests/s3-server: s3rver,
/// credentials S3RVER/S3RVER). Each caller gets its own bucket name; the store creates it on first use.
/// </summary>
public static class S3Server
{
    public const string AccessKey = "S3RVER", SecretKey = "S3RVER";

    public static S3StorageOptions RequireBucket()
    {
        string? endpoint = Environment.GetEnvironmentVariable("VISIONLABEL_TEST_S3");
        if (string.IsNullOrWhiteSpace(endpoint))
            Requirement.Missing("needs an S3-protocol server: set VISIONLABEL_TEST_S3=host:port (tests/run starts one from tests/s3-server) to run the S3 tests");
        return new S3StorageOptions { Endpoint = endpoint, Bucket = "vl-test-" + Guid.NewGuid().ToString("N")[..12], AccessKey = AccessKey, SecretKey = SecretKey };
    }

    /// <summary>Server settings that put every blob in a fresh bucket of the test S3 server.</summary>
    public static Dictionary<string, string?> Settings(S3StorageOptions s3) => new()
    {
        ["VisionLabel:Storage:Provider"] = "s3", ["VisionLabel:Storage:S3:Endpoint"] = s3.Endpoint, ["VisionLabel:Storage:S3:Bucket"] = s3.Bucket,
        ["VisionLabel:Storage:S3:AccessKey"] = s3.AccessKey, ["VisionLabel:Storage:S3:SecretKey"] = s3.SecretKey,
    };
}
