using System.Globalization;
using MskClickHouse.EmbeddedClickHouse.Chdb;

namespace MskClickHouse.EmbeddedClickHouse.Http;

/// <summary>The X-ClickHouse-Summary header: snake_case JSON whose numbers are strings.</summary>
internal sealed record QuerySummary(
    ulong ReadRows,
    ulong ReadBytes,
    ulong WrittenRows,
    ulong WrittenBytes,
    ulong ResultRows,
    ulong ResultBytes,
    TimeSpan Elapsed)
{
    public static QuerySummary Empty(TimeSpan elapsed) => new(0, 0, 0, 0, 0, 0, elapsed);

    public static QuerySummary ForInsert(ChdbResult result, ulong bytesReceived, TimeSpan elapsed) =>
        new(result.RowsWritten, bytesReceived, result.RowsWritten, result.BytesWritten, 0, 0, elapsed);

    public static QuerySummary ForQuery(ChdbResult result, TimeSpan elapsed) =>
        new(
            Math.Max(result.StorageRowsRead, result.RowsRead),
            Math.Max(result.StorageBytesRead, result.BytesRead),
            result.RowsWritten,
            result.BytesWritten,
            result.RowsRead,
            (ulong)result.Length,
            elapsed);

    public string ToHeader()
    {
        static string S(ulong v) => v.ToString(CultureInfo.InvariantCulture);
        var ns = (ulong)(Elapsed.Ticks * 100);
        return "{" +
            $"\"read_rows\":\"{S(ReadRows)}\",\"read_bytes\":\"{S(ReadBytes)}\"," +
            $"\"written_rows\":\"{S(WrittenRows)}\",\"written_bytes\":\"{S(WrittenBytes)}\"," +
            $"\"total_rows_to_read\":\"0\",\"result_rows\":\"{S(ResultRows)}\",\"result_bytes\":\"{S(ResultBytes)}\"," +
            $"\"elapsed_ns\":\"{S(ns)}\"" +
            "}";
    }
}
