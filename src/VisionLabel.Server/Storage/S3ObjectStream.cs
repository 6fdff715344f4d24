using System.Net;
using System.Net.Http.Headers;

namespace VisionLabel.Server.Storage;

/// <summary>
/// A seekable read stream over one S3 object: reading from a position opens a GET from there to the end (a Range
/// request past 0), and seeking elsewhere drops it, so an HTTP range request (or a reader that skips ahead) fetches only
/// what it reads. The GET goes to a short-lived presigned URL with a plain HttpClient: Minio 7.0's own GetObject sends
/// its HEAD with the Range too and treats the 206 answer as an error.
/// </summary>
internal sealed class S3ObjectStream(HttpClient http, Func<Task<Uri>> presign, string key, long length) : Stream
{
    private long _position;
    private HttpResponseMessage? _response;
    private Stream? _body;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            if (value == _position) return;
            DropBody();
            _position = value;
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (_position >= length || buffer.Length == 0) return 0;
        _body ??= await OpenAsync(ct);
        int n = await _body.ReadAsync(buffer, ct);
        if (n == 0) throw new IOException($"the object {key} ended at byte {_position} of {length}");
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    private async Task<Stream> OpenAsync(CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, await presign());
        if (_position > 0) request.Headers.Range = new RangeHeaderValue(_position, null);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var expected = _position > 0 ? HttpStatusCode.PartialContent : HttpStatusCode.OK;
        if (response.StatusCode != expected)
        {
            response.Dispose();
            throw new IOException($"the object store answered {(int)response.StatusCode} {response.ReasonPhrase} reading {key} from byte {_position}");
        }
        _response = response;
        return await response.Content.ReadAsStreamAsync(ct);
    }

    private void DropBody()
    {
        _body?.Dispose();
        _response?.Dispose();
        _body = null;
        _response = null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) DropBody();
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
