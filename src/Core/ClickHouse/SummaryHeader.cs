using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MskClickHouse.Core.ClickHouse;

/// <summary>
/// Parses X-ClickHouse-Summary. ClickHouse sends snake_case JSON whose numbers are strings
/// (<c>{"read_rows":"0",...,"written_rows":"3","written_bytes":"60",...}</c>); other versions and compatible fronts send
/// numbers as numbers, other key orders, extra or missing keys, or no header at all. The summary only feeds metrics,
/// so anything unreadable yields zeros, never an exception.
/// </summary>
public static class SummaryHeader
{
    public const string Name = "X-ClickHouse-Summary";

    /// <summary>The written rows and bytes the header reports; zeros for what it does not say or cannot be read.</summary>
    public static InsertResult Parse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return default;
        }

        long written = 0, bytes = 0;
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(header));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                if (!reader.Read())
                {
                    break;
                }

                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                if (name == "written_rows")
                {
                    written = NumberOf(ref reader);
                }
                else if (name == "written_bytes")
                {
                    bytes = NumberOf(ref reader);
                }
            }
        }
        catch (JsonException)
        {
            // A truncated or non-JSON header: keep what was read before it broke.
        }

        return new InsertResult(written, bytes);
    }

    /// <summary>The header of a response (several values are joined), then <see cref="Parse(string?)"/>.</summary>
    public static InsertResult Parse(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.Headers.TryGetValues(Name, out var values) ? Parse(string.Concat(values)) : default;
    }

    private static long NumberOf(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number when reader.TryGetInt64(out var n) => Math.Max(0, n),
        JsonTokenType.Number when reader.TryGetDouble(out var d) && d is >= 0 and < long.MaxValue => (long)d,
        JsonTokenType.String when long.TryParse(reader.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) => Math.Max(0, s),
        _ => 0,
    };
}
