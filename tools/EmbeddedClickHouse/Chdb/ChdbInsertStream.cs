using System.Runtime.InteropServices;

namespace MskClickHouse.EmbeddedClickHouse.Chdb;

/// <summary>
/// chDB's streaming INSERT: the statement (without its FORMAT clause) is prepared once and the data
/// is appended in chunks, so a large body never has to be held in memory or inlined in SQL text
/// (which chDB refuses for binary formats).
/// </summary>
internal sealed unsafe class ChdbInsertStream : IDisposable
{
    private nint _handle;

    private ChdbInsertStream(nint handle)
    {
        _handle = handle;
    }

    /// <summary>Prepares <paramref name="statement"/> (e.g. <c>INSERT INTO t (a, b) SETTINGS ...</c>) for data in <paramref name="format"/>.</summary>
    public static ChdbInsertStream Begin(nint connection, ReadOnlySpan<byte> statement, ReadOnlySpan<byte> format)
    {
        nint handle;
        fixed (byte* s = statement)
        fixed (byte* f = format)
        {
            handle = ChdbNative.chdb_stream_insert_n(connection, s, (nuint)statement.Length, f, (nuint)format.Length);
        }

        var stream = new ChdbInsertStream(handle);
        try
        {
            stream.ThrowIfFailed();
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        return stream;
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        int state;
        fixed (byte* d = data)
        {
            state = ChdbNative.chdb_stream_append(_handle, d, (nuint)data.Length);
        }

        if (state != 0)
        {
            ThrowIfFailed();
            throw new ChdbException(1001, "Code: 1001. DB::Exception: chDB refused the insert data");
        }
    }

    /// <summary>Commits the insert; the result carries written rows and bytes.</summary>
    public ChdbResult Complete() => ChdbResult.Take(ChdbNative.chdb_stream_done(_handle));

    public void Dispose()
    {
        var handle = Interlocked.Exchange(ref _handle, 0);
        if (handle != 0)
        {
            // Cancels the insert first when it was not completed.
            ChdbNative.chdb_destroy_insert_stream(handle);
        }
    }

    private void ThrowIfFailed()
    {
        if (_handle == 0)
        {
            throw new ChdbException(1001, "Code: 1001. DB::Exception: chDB returned no insert stream");
        }

        var error = ChdbNative.chdb_stream_insert_error(_handle);
        if (error != 0)
        {
            throw ChdbException.FromEngineText(Marshal.PtrToStringUTF8(error) ?? string.Empty);
        }
    }
}
