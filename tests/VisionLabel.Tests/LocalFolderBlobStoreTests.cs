using VisionLabel.Server.Storage;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

public class LocalFolderBlobStoreTests
{
    [Fact]
    public async Task Put_read_overwrite_delete()
    {
        using var dir = new TempDirectory();
        var store = new LocalFolderBlobStore(dir.Path);
        string key = BlobKeys.Original(new string('a', 64));
        Assert.Null(await store.OpenReadAsync(key, TestContext.Current.CancellationToken));

        await store.PutAsync(key, new MemoryStream("first"u8.ToArray()), TestContext.Current.CancellationToken);
        await store.PutAsync(key, new MemoryStream("second"u8.ToArray()), TestContext.Current.CancellationToken);
        await using (var s = await store.OpenReadAsync(key, TestContext.Current.CancellationToken))
            Assert.Equal("second", await new StreamReader(s!).ReadToEndAsync(TestContext.Current.CancellationToken));

        string source = Path.Combine(dir.Path, "upload.tmp");
        await File.WriteAllTextAsync(source, "moved", TestContext.Current.CancellationToken);
        await store.PutFileAsync("thumbnails/x.jpg", source, TestContext.Current.CancellationToken);
        Assert.False(File.Exists(source));
        Assert.True(await store.ExistsAsync("thumbnails/x.jpg", TestContext.Current.CancellationToken));

        await store.DeleteAsync(key, TestContext.Current.CancellationToken);
        Assert.False(await store.ExistsAsync(key, TestContext.Current.CancellationToken));
        Assert.Empty(Directory.GetFiles(Path.Combine(dir.Path, ".staging"))); // no temp files left behind
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../b")]
    [InlineData("Upper/Case")]
    [InlineData("")]
    public async Task Keys_that_could_escape_the_folder_are_refused(string key)
    {
        using var dir = new TempDirectory();
        var store = new LocalFolderBlobStore(dir.Path);
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync(key, new MemoryStream([1]), TestContext.Current.CancellationToken));
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
