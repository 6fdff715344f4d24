namespace VisionLabel.Server.Datasets;

/// <summary>
/// Lets ZipArchive write into a stream that accepts only asynchronous writes (an ASP.NET Core response body).
/// Disposing an entry writes its last deflate block and data descriptor synchronously, a few kilobytes at most;
/// those bytes are held here and sent ahead of the next asynchronous write or flush.
/// </summary>
internal sealed class AsyncWriteStream(Stream inner) : Stream
{
    private readonly MemoryStream _held = new();
    private long _written;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _held.Write(buffer);
        _written += buffer.Length;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        await SendHeldAsync(ct);
        await inner.WriteAsync(buffer, ct);
        _written += buffer.Length;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override async Task FlushAsync(CancellationToken ct)
    {
        await SendHeldAsync(ct);
        await inner.FlushAsync(ct);
    }

    public override void Flush() { } // held bytes go out with the next asynchronous call

    public override async ValueTask DisposeAsync()
    {
        await SendHeldAsync(CancellationToken.None);
        await base.DisposeAsync();
    }

    private async Task SendHeldAsync(CancellationToken ct)
    {
        if (_held.Length == 0) return;
        await inner.WriteAsync(_held.GetBuffer().AsMemory(0, (int)_held.Length), ct);
        _held.SetLength(0);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _written; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
