using System.Runtime.InteropServices;

namespace MskClickHouse.EmbeddedClickHouse.Chdb;

/// <summary>
/// The subset of chDB's C API (chdb.h) that the server uses. The library path is only known at
/// run time, so the import name is resolved by <see cref="ChdbLibrary"/>.
/// </summary>
internal static unsafe partial class ChdbNative
{
    public const string Library = "chdb";

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint chdb_connect(int argc, string[] argv);

    [LibraryImport(Library)]
    public static partial void chdb_close_conn(nint connection);

    [LibraryImport(Library)]
    public static partial nint chdb_query_with_params_n(
        nint conn, byte* query, nuint queryLength, byte* format, nuint formatLength,
        byte** names, nuint* nameLengths, byte** values, nuint* valueLengths, nuint count);

    [LibraryImport(Library)]
    public static partial nint chdb_stream_insert_n(nint conn, byte* query, nuint queryLength, byte* format, nuint formatLength);

    [LibraryImport(Library)]
    public static partial int chdb_stream_append(nint stream, byte* data, nuint length);

    [LibraryImport(Library)]
    public static partial nint chdb_stream_done(nint stream);

    [LibraryImport(Library)]
    public static partial nint chdb_stream_insert_error(nint stream);

    [LibraryImport(Library)]
    public static partial void chdb_destroy_insert_stream(nint stream);

    [LibraryImport(Library)]
    public static partial byte* chdb_result_buffer(nint result);

    [LibraryImport(Library)]
    public static partial nuint chdb_result_length(nint result);

    [LibraryImport(Library)]
    public static partial double chdb_result_elapsed(nint result);

    [LibraryImport(Library)]
    public static partial ulong chdb_result_rows_read(nint result);

    [LibraryImport(Library)]
    public static partial ulong chdb_result_bytes_read(nint result);

    [LibraryImport(Library)]
    public static partial ulong chdb_result_storage_rows_read(nint result);

    [LibraryImport(Library)]
    public static partial ulong chdb_result_storage_bytes_read(nint result);

    [LibraryImport(Library)]
    public static partial ulong chdb_result_rows_written(nint result);

    [LibraryImport(Library)]
    public static partial ulong chdb_result_bytes_written(nint result);

    [LibraryImport(Library)]
    public static partial nint chdb_result_error(nint result);

    [LibraryImport(Library)]
    public static partial void chdb_destroy_query_result(nint result);
}
