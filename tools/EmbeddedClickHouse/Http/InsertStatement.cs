using System.Text.RegularExpressions;

namespace MskClickHouse.EmbeddedClickHouse.Http;

/// <summary>
/// An <c>INSERT ... FORMAT X</c> whose data travels separately: the statement without its FORMAT
/// clause goes to chDB's streaming insert, the data is appended to it.
/// </summary>
internal sealed partial record InsertStatement(string Statement, string Format)
{
    /// <summary>The whole of <paramref name="sql"/> is an INSERT that ends with its FORMAT clause (the data is the body).</summary>
    public static InsertStatement? FromQuery(string sql)
    {
        var match = WholeQuery().Match(sql);
        return match.Success && CarriesData(match) ? new InsertStatement(match.Groups["statement"].Value, match.Groups["format"].Value) : null;
    }

    /// <summary>
    /// <paramref name="head"/> is the start of a body that holds the query followed by the data, as
    /// when the query is not in the URL. On a match, <paramref name="dataOffset"/> is the index of
    /// the first data character: ClickHouse skips the whitespace after the format name up to and
    /// including the first newline.
    /// </summary>
    public static InsertStatement? FromBodyHead(string head, out int dataOffset)
    {
        var match = BodyHead().Match(head);
        var success = match.Success && CarriesData(match);
        dataOffset = success ? match.Index + match.Length : 0;
        return success ? new InsertStatement(match.Groups["statement"].Value, match.Groups["format"].Value) : null;
    }

    /// <summary><c>INSERT ... FROM INFILE 'f' FORMAT X</c> names its data source; nothing follows it.</summary>
    private static bool CarriesData(Match match) => !FromInfile().IsMatch(match.Groups["statement"].ValueSpan);

    [GeneratedRegex(@"\bFROM\s+INFILE\b", RegexOptions.IgnoreCase)]
    private static partial Regex FromInfile();

    [GeneratedRegex(@"^(?<statement>\s*INSERT\s+INTO\s.*?)\s+FORMAT\s+(?<format>[A-Za-z0-9_]+)\s*;?\s*$", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex WholeQuery();

    [GeneratedRegex(@"^(?<statement>\s*INSERT\s+INTO\s.*?)\s+FORMAT\s+(?<format>[A-Za-z0-9_]+)[ \t]*(\r?\n|$)", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex BodyHead();
}
