using VisionLabel.Server.Storage;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

[Trait("Tier", Tiers.Unit)]
public class LocalFolderBlobStoreTests
{
    // Put, read, overwrite, delete, listing, touch and key checks are in BlobStoreContractTests (local and S3).

    [Fact]
    public async Task Writes_go_through_staging_and_leave_nothing_there()
    {
        using var dir = new TempDirectory();
        var store = new LocalFolderBlobStore(dir.Path);
        string source = Path.Combine(dir.Path, "upload.tmp");
        await File.WriteAllTextAsync(source, "moved", TestContext.Current.CancellationToken);
        await store.PutFileAsync("thumbnails/x.jpg", source, TestContext.Current.CancellationToken);
        await store.PutAsync("thumbnails/y.jpg", new MemoryStream([1]), TestContext.Current.CancellationToken);
        Assert.True(await store.ExistsAsync("thumbnails/x.jpg", TestContext.Current.CancellationToken));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir.Path, ".staging")));
    }

    [Fact]
    public async Task A_failed_write_leaves_the_old_object_whole()
    {
        using var dir = new TempDirectory();
        var store = new LocalFolderBlobStore(dir.Path);
        await store.PutAsync("k", new MemoryStream("old"u8.ToArray()), TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<IOException>(() => store.PutAsync("k", new FailingStream(), TestContext.Current.CancellationToken));
        await using var s = await store.OpenReadAsync("k", TestContext.Current.CancellationToken);
        Assert.Equal("old", await new StreamReader(s!).ReadToEndAsync(TestContext.Current.CancellationToken));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir.Path, ".staging")));
    }

    /// <summary>Yields some bytes, then fails like a dropped connection.</summary>
    private sealed class FailingStream : Stream
    {
        private int _reads;
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_reads++ > 0) throw new IOException("connection reset");
            buffer[offset] = 42;
            return 1;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => 0; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
