using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace MskClickHouse.RuntimeApiEmulator;

/// <summary>One parsed HTTP/1.1 request.</summary>
internal sealed record HttpRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;

    public bool KeepAlive => !string.Equals(Header("Connection"), "close", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// A minimal HTTP/1.1 server side of one TCP connection: requests with Content-Length or chunked bodies,
/// keep-alive, responses with Content-Length. Enough for the Runtime API's four calls; not a general server.
/// </summary>
internal sealed class HttpConnection : IDisposable
{
    private const int MaxHeaderBytes = 64 * 1024;
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    public HttpConnection(TcpClient client)
    {
        _client = client;
        _client.NoDelay = true;
        _stream = client.GetStream();
    }

    /// <summary>The next request, or null when the peer closed the connection between requests.</summary>
    public async Task<HttpRequest?> ReadRequestAsync(CancellationToken ct)
    {
        var head = await ReadHeadAsync(ct);
        if (head is null)
        {
            return null;
        }

        var lines = head.Split("\r\n");
        var requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"bad request line '{lines[0]}'");
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                var name = line[..colon].Trim();
                var value = line[(colon + 1)..].Trim();
                headers[name] = headers.TryGetValue(name, out var existing) ? existing + "," + value : value;
            }
        }

        byte[] body;
        if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = await ReadChunkedAsync(ct);
        }
        else if (headers.TryGetValue("Content-Length", out var cl))
        {
            body = await ReadExactlyAsync(int.Parse(cl, NumberStyles.None, CultureInfo.InvariantCulture), ct);
        }
        else
        {
            body = [];
        }

        return new HttpRequest(requestLine[0], requestLine[1], headers, body);
    }

    public async Task WriteResponseAsync(int status, string reason, IEnumerable<KeyValuePair<string, string>> headers, byte[] body, bool keepAlive, CancellationToken ct)
    {
        var head = new StringBuilder(256);
        head.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {reason}\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        head.Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        if (!keepAlive)
        {
            head.Append("Connection: close\r\n");
        }

        head.Append("\r\n");
        var headBytes = Encoding.ASCII.GetBytes(head.ToString());
        var all = new byte[headBytes.Length + body.Length];
        headBytes.CopyTo(all, 0);
        body.CopyTo(all, headBytes.Length);
        await _stream.WriteAsync(all, ct);
        await _stream.FlushAsync(ct);
    }

    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
    }

    private async Task<string?> ReadHeadAsync(CancellationToken ct)
    {
        while (true)
        {
            var window = _buffer.AsSpan(_start, _end - _start);
            var end = window.IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                var head = Encoding.ASCII.GetString(window[..end]);
                _start += end + 4;
                return head;
            }

            if (_end - _start >= MaxHeaderBytes || !await FillAsync(ct))
            {
                if (_end == _start)
                {
                    return null;
                }

                throw new InvalidDataException("connection closed inside a request head");
            }
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken ct)
    {
        while (true)
        {
            var window = _buffer.AsSpan(_start, _end - _start);
            var end = window.IndexOf("\r\n"u8);
            if (end >= 0)
            {
                var line = Encoding.ASCII.GetString(window[..end]);
                _start += end + 2;
                return line;
            }

            if (!await FillAsync(ct))
            {
                throw new InvalidDataException("connection closed inside a chunk header");
            }
        }
    }

    private async Task<byte[]> ReadChunkedAsync(CancellationToken ct)
    {
        using var body = new MemoryStream();
        while (true)
        {
            var sizeLine = await ReadLineAsync(ct);
            var semicolon = sizeLine.IndexOf(';', StringComparison.Ordinal);
            var size = int.Parse(semicolon < 0 ? sizeLine : sizeLine[..semicolon], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (size == 0)
            {
                // Trailers, if any, end with an empty line.
                while ((await ReadLineAsync(ct)).Length > 0)
                {
                }

                return body.ToArray();
            }

            body.Write(await ReadExactlyAsync(size, ct));
            await ReadLineAsync(ct);
        }
    }

    private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken ct)
    {
        var result = new byte[count];
        var have = Math.Min(count, _end - _start);
        _buffer.AsSpan(_start, have).CopyTo(result);
        _start += have;
        if (have < count)
        {
            await _stream.ReadExactlyAsync(result.AsMemory(have), ct);
        }

        return result;
    }

    private async Task<bool> FillAsync(CancellationToken ct)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            return false;
        }

        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), ct);
        _end += read;
        return read > 0;
    }
}
