using System.Runtime.InteropServices;

namespace MskClickHouse.EmbeddedClickHouse.Chdb;

/// <summary>A successful chDB result: the output bytes (still in native memory) and the counters.</summary>
internal sealed unsafe class ChdbResult : IDisposable
{
    private nint _handle;

    private ChdbResult(nint handle)
    {
        _handle = handle;
        Length = (long)ChdbNative.chdb_result_length(handle);
        Elapsed = TimeSpan.FromSeconds(ChdbNative.chdb_result_elapsed(handle));
        RowsRead = ChdbNative.chdb_result_rows_read(handle);
        BytesRead = ChdbNative.chdb_result_bytes_read(handle);
        StorageRowsRead = ChdbNative.chdb_result_storage_rows_read(handle);
        StorageBytesRead = ChdbNative.chdb_result_storage_bytes_read(handle);
        RowsWritten = ChdbNative.chdb_result_rows_written(handle);
        BytesWritten = ChdbNative.chdb_result_bytes_written(handle);
    }

    public long Length { get; }

    public TimeSpan Elapsed { get; }

    /// <summary>Rows in the result set (chDB's rows_read).</summary>
    public ulong RowsRead { get; }

    /// <summary>Bytes of the result set in ClickHouse's in-memory representation.</summary>
    public ulong BytesRead { get; }

    public ulong StorageRowsRead { get; }

    public ulong StorageBytesRead { get; }

    /// <summary>Rows written by an INSERT, including materialized-view cascades.</summary>
    public ulong RowsWritten { get; }

    public ulong BytesWritten { get; }

    /// <summary>Takes ownership of a native result; throws (and frees it) when it carries an error.</summary>
    public static ChdbResult Take(nint handle)
    {
        if (handle == 0)
        {
            throw new ChdbException(1001, "Code: 1001. DB::Exception: chDB returned no result");
        }

        var error = ChdbNative.chdb_result_error(handle);
        if (error != 0)
        {
            var text = Marshal.PtrToStringUTF8(error) ?? string.Empty;
            ChdbNative.chdb_destroy_query_result(handle);
            throw ChdbException.FromEngineText(text);
        }

        return new ChdbResult(handle);
    }

    /// <summary>A read-only view of the output; valid until this result is disposed.</summary>
    public Stream OpenRead()
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        var buffer = ChdbNative.chdb_result_buffer(_handle);
        return buffer == null || Length == 0
            ? Stream.Null
            : new UnmanagedMemoryStream(buffer, Length);
    }

    public string ReadAllText()
    {
        using var stream = OpenRead();
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public void Dispose()
    {
        var handle = Interlocked.Exchange(ref _handle, 0);
        if (handle != 0)
        {
            ChdbNative.chdb_destroy_query_result(handle);
        }
    }
}
