using System.Security.Cryptography;
using VisionLabel.Server.Storage;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>What every blob store must do, run against the local folder and against a real S3-protocol server.</summary>
[Trait("Tier", Tiers.System)]
public abstract class BlobStoreContractTests : IDisposable
{
    protected abstract IBlobStore Store { get; }
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<byte[]?> Read(IBlobStore store, string key) => await store.ReadAllBytesAsync(key, Ct);

    [Fact]
    public async Task Put_read_overwrite_delete()
    {
        string key = BlobKeys.Original(new string('a', 64));
        Assert.Null(await Store.OpenReadAsync(key, Ct));
        Assert.False(await Store.ExistsAsync(key, Ct));

        await Store.PutAsync(key, new MemoryStream("first"u8.ToArray()), Ct);
        await Store.PutAsync(key, new MemoryStream("second"u8.ToArray()), Ct);
        Assert.Equal("second"u8.ToArray(), await Read(Store, key));
        Assert.True(await Store.ExistsAsync(key, Ct));

        await Store.DeleteAsync(key, Ct);
        Assert.False(await Store.ExistsAsync(key, Ct));
        Assert.Null(await Store.OpenReadAsync(key, Ct));
        await Store.DeleteAsync(key, Ct); // deleting what is gone is fine
    }

    [Fact]
    public async Task A_file_put_is_taken_and_a_big_one_survives_whole()
    {
        // 13 MiB: over the S3 SDK's 5 MiB part size, so it goes up as a multipart upload there.
        using var dir = new TempDirectory();
        var bytes = new byte[13 << 20];
        new Random(5).NextBytes(bytes);
        string path = Path.Combine(dir.Path, "upload.tmp");
        await File.WriteAllBytesAsync(path, bytes, Ct);
        await Store.PutFileAsync("models/ab/big.onnx", path, Ct);
        Assert.False(File.Exists(path));
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData((await Read(Store, "models/ab/big.onnx"))!));

        // A stream of unknown length (not seekable) is stored whole too.
        await Store.PutAsync("models/ab/streamed.onnx", new NonSeekable(new MemoryStream(bytes)), Ct);
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData((await Read(Store, "models/ab/streamed.onnx"))!));
    }

    [Fact]
    public async Task Reads_seek_and_read_ranges()
    {
        var bytes = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        await Store.PutAsync("thumbnails/256/ab/range.jpg", new MemoryStream(bytes), Ct);
        await using var stream = (await Store.OpenReadAsync("thumbnails/256/ab/range.jpg", Ct))!;
        Assert.True(stream.CanSeek);
        Assert.Equal(bytes.Length, stream.Length);
        stream.Seek(250_000, SeekOrigin.Begin);
        var tail = new byte[100];
        await stream.ReadExactlyAsync(tail, Ct);
        Assert.Equal(bytes[250_000..250_100], tail);
        stream.Position = 10;
        var head = new byte[20];
        await stream.ReadExactlyAsync(head, Ct);
        Assert.Equal(bytes[10..30], head);
        stream.Position = bytes.Length;
        Assert.Equal(0, await stream.ReadAsync(new byte[1], Ct));
    }

    [Fact]
    public async Task Listing_pages_through_everything_under_a_prefix()
    {
        // More than one S3 listing page (1,000 keys).
        await Parallel.ForEachAsync(Enumerable.Range(0, 1050), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Ct },
            async (i, ct) => await Store.PutAsync($"originals/aa/{i:D5}", new MemoryStream([(byte)i]), ct));
        await Store.PutAsync("thumbnails/256/aa/other.jpg", new MemoryStream([1]), Ct);
        var listed = new List<BlobEntry>();
        await foreach (var entry in Store.ListAsync("originals/", Ct)) listed.Add(entry);
        Assert.Equal(Enumerable.Range(0, 1050).Select(i => $"originals/aa/{i:D5}").Order(), listed.Select(e => e.Key).Order());
        Assert.All(listed, e => Assert.InRange(e.LastModifiedUtc, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(1)));
    }

    [Fact]
    public async Task Touch_makes_an_object_new_again()
    {
        await Store.PutAsync("models/cd/touched.onnx", new MemoryStream([1, 2, 3]), Ct);
        var before = await Modified("models/cd/touched.onnx");
        // Modification times have whole-second resolution on S3: let one pass, so a touch that did nothing shows.
        await Task.Delay(TimeSpan.FromSeconds(1.2), Ct);
        await Store.TouchAsync("models/cd/touched.onnx", Ct);
        Assert.True(await Modified("models/cd/touched.onnx") > before);
        Assert.Equal([1, 2, 3], await Read(Store, "models/cd/touched.onnx")); // same bytes
        await Store.TouchAsync("models/cd/never-written.onnx", Ct); // touching what is not there is not an error
        Assert.False(await Store.ExistsAsync("models/cd/never-written.onnx", Ct));
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../b")]
    [InlineData("Upper/Case")]
    [InlineData("")]
    public async Task Keys_that_could_escape_are_refused(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(key, new MemoryStream([1]), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(key, Ct));
    }

    private async Task<DateTime> Modified(string key)
    {
        await foreach (var entry in Store.ListAsync(key[..(key.LastIndexOf('/') + 1)], Ct)) if (entry.Key == key) return entry.LastModifiedUtc;
        throw new InvalidOperationException($"{key} not listed");
    }

    public virtual void Dispose() { }

    private sealed class NonSeekable(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

public sealed class LocalFolderBlobStoreContractTests : BlobStoreContractTests
{
    private readonly TempDirectory _dir = new();
    private readonly LocalFolderBlobStore _store;
    public LocalFolderBlobStoreContractTests() => _store = new LocalFolderBlobStore(_dir.Path);
    protected override IBlobStore Store => _store;
    public override void Dispose() => _dir.Dispose();
}

public sealed class S3BlobStoreContractTests : BlobStoreContractTests
{
    // Lazy and thread-safe: a test's parallel first uses must all get the one store (and bucket).
    private readonly Lazy<S3BlobStore> _store = new(() => new S3BlobStore(S3Server.RequireBucket()));
    protected override IBlobStore Store => _store.Value;
    public override void Dispose() { if (_store.IsValueCreated) _store.Value.Dispose(); }
}
