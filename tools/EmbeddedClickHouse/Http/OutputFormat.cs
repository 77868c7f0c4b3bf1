using System.Text.RegularExpressions;

namespace MskClickHouse.EmbeddedClickHouse.Http;

/// <summary>Which format a query answers in, and the Content-Type that goes with it.</summary>
internal static partial class OutputFormat
{
    /// <summary>The query's own trailing FORMAT clause wins over default_format.</summary>
    public static string Of(string sql, string defaultFormat)
    {
        var match = TrailingFormat().Match(sql);
        return match.Success ? match.Groups[1].Value : defaultFormat;
    }

    public static string ContentType(string format) => format switch
    {
        _ when format.StartsWith("TabSeparated", StringComparison.OrdinalIgnoreCase) || format.StartsWith("TSV", StringComparison.OrdinalIgnoreCase)
            => "text/tab-separated-values; charset=UTF-8",
        _ when format.StartsWith("CSV", StringComparison.OrdinalIgnoreCase) => "text/csv; charset=UTF-8; header=absent",
        _ when format.StartsWith("JSON", StringComparison.OrdinalIgnoreCase) && !format.Contains("EachRow", StringComparison.OrdinalIgnoreCase)
            && !format.Contains("Lines", StringComparison.OrdinalIgnoreCase)
            => "application/json; charset=UTF-8",
        _ when format.Contains("EachRow", StringComparison.OrdinalIgnoreCase) || format.Contains("Lines", StringComparison.OrdinalIgnoreCase)
            => "application/x-ndjson; charset=UTF-8",
        _ when format.StartsWith("Pretty", StringComparison.OrdinalIgnoreCase) || format.Equals("Vertical", StringComparison.OrdinalIgnoreCase)
            => "text/plain; charset=UTF-8",
        _ => "application/octet-stream",
    };

    [GeneratedRegex(@"\sFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex TrailingFormat();
}
