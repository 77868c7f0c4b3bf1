using System.IO.Compression;
using Microsoft.AspNetCore.Http;
using MskClickHouse.EmbeddedClickHouse.Chdb;

namespace MskClickHouse.EmbeddedClickHouse.Http;

/// <summary>Opens a request body, undoing its Content-Encoding.</summary>
internal static class RequestBody
{
    /// <summary>
    /// gzip, deflate (zlib) and br are decoded while streaming. .NET 10 has no zstd decoder, so a
    /// zstd body is spooled to a temporary file and decoded by chDB itself (its file() table
    /// function reads zstd) — this needs the engine, hence the lease.
    /// </summary>
    public static async Task<Stream> OpenAsync(HttpRequest request, Func<Task<ChdbEngine.Lease>> acquire, CancellationToken cancellationToken)
    {
        var encoding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        return encoding switch
        {
            "" or "identity" => request.Body,
            "gzip" or "x-gzip" => new GZipStream(request.Body, CompressionMode.Decompress),
            "deflate" => new ZLibStream(request.Body, CompressionMode.Decompress),
            "br" => new BrotliStream(request.Body, CompressionMode.Decompress),
            "zstd" => await DecodeZstdAsync(request.Body, acquire, cancellationToken),
            _ => throw new ChdbException(
                36, $"Code: 36. DB::Exception: Unknown Content-Encoding of HTTP request: {encoding}. (BAD_ARGUMENTS)"),
        };
    }

    private static async Task<Stream> DecodeZstdAsync(Stream body, Func<Task<ChdbEngine.Lease>> acquire, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Path.GetTempPath(), $"embedded-clickhouse-{Guid.NewGuid():N}.zst");
        try
        {
            await using (var file = File.Create(path))
            {
                await body.CopyToAsync(file, cancellationToken);
            }

            using var lease = await acquire();
            using var result = lease.Query(
                $"SELECT raw FROM file({SqlText.Quote(path)}, 'RawBLOB', 'raw String', 'zstd')", "RawBLOB");
            var decoded = new MemoryStream(checked((int)result.Length));
            await using (var raw = result.OpenRead())
            {
                await raw.CopyToAsync(decoded, cancellationToken);
            }

            decoded.Position = 0;
            return decoded;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
