using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MskClickHouse.Core.Replay;

/// <summary>Reads the JSONEachRow answer of <see cref="DeadLetterQueries.SelectPending"/>. Pure.</summary>
public static class DeadLetterRecordParser
{
    public static List<DeadLetterRecord> Parse(ReadOnlySpan<byte> jsonEachRow)
    {
        var records = new List<DeadLetterRecord>();
        while (!jsonEachRow.IsEmpty)
        {
            var end = jsonEachRow.IndexOf((byte)'\n');
            var line = end < 0 ? jsonEachRow : jsonEachRow[..end];
            jsonEachRow = end < 0 ? default : jsonEachRow[(end + 1)..];
            if (line.Trim((byte)' ').Trim((byte)'\r').IsEmpty)
            {
                continue;
            }

            records.Add(ParseRow(line));
        }

        return records;
    }

    private static DeadLetterRecord ParseRow(ReadOnlySpan<byte> line)
    {
        var reader = new Utf8JsonReader(line);
        using var doc = JsonDocument.ParseValue(ref reader);
        var row = doc.RootElement;
        var names = row.GetProperty("header_names").EnumerateArray().Select(e => e.GetString()!).ToList();
        var values = row.GetProperty("header_values").EnumerateArray().Select(e => e.GetString()!).ToList();
        if (names.Count != values.Count)
        {
            throw new FormatException("dead-letter row: header names and values differ in count");
        }

        return new DeadLetterRecord(
            row.GetProperty("source").GetString()!,
            row.GetProperty("topic").GetString()!,
            Int(row.GetProperty("partition")) is var p and >= int.MinValue and <= int.MaxValue ? (int)p : throw new FormatException("partition"),
            Int(row.GetProperty("offset_text")),
            (uint)Int(row.GetProperty("generation")),
            Int(row.GetProperty("timestamp_ms")),
            row.GetProperty("timestamp_type").GetString() ?? string.Empty,
            row.GetProperty("key_base64").GetString(),
            row.GetProperty("value_base64").GetString(),
            names.Zip(values, (n, v) => new DeadLetterHeader(n, v)).ToList(),
            Encoding.UTF8.GetString(Convert.FromBase64String(row.GetProperty("error_base64").GetString()!)));
    }

    /// <summary>A number, or a number in a string (ClickHouse quotes 64-bit integers in JSON by default).</summary>
    private static long Int(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? long.Parse(e.GetString()!, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)
        : e.GetInt64();
}
