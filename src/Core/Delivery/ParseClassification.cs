using System.Globalization;
using System.Text;
using System.Text.Unicode;
using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// Builds the SELECTs that ask the engine which of many rows parse, in one request per chunk, and reads their answers.
/// <para>
/// Each row is tagged with its index in an extra key (<c>"__sink_row":i</c>) and followed by <see cref="Padding"/>
/// spaces; the rows are read with <c>format(JSONEachRow, &lt;the table's insertable columns&gt;, '&lt;rows&gt;')</c> under
/// <c>input_format_allow_errors_ratio = 1</c> and the parse settings of the insert, and the indexes that come back are
/// the rows that parse. Measured (tests/Core.Tests/Delivery/BadRowClassificationEngineTests.cs, chDB 26.7): without
/// the padding a bad UUID row swallows the good row after it (the answer is then a subset of the good rows); padded,
/// every parse-level type of the rejected-value corpus comes back exact. <c>format()</c> has no <c>_row_number</c>.
/// </para>
/// <para>
/// The answer is only a hint: BadRowIsolation verifies the rows said to parse with a real probe and asks the engine
/// for the message of the first rows said not to parse one by one; any disagreement sends it back to probing.
/// </para>
/// </summary>
public static class ParseClassification
{
    /// <summary>The key that carries a row's index; a table with a column of this name is not classified.</summary>
    public const string TagKey = "__sink_row";

    /// <summary>Spaces after each row: an overrunning reader (UUID reads a fixed width) stops inside them.</summary>
    public const int Padding = 100;

    /// <summary>
    /// Query text per chunk, below the server's default max_query_size (262,144 bytes: the data is part of the
    /// query text, and a SETTINGS clause cannot raise the limit of the query it belongs to).
    /// </summary>
    public const int MaxQueryBytes = 240_000;

    /// <summary>
    /// A row that always parses (every column omitted takes its default), ending each chunk: when no row of a chunk
    /// parses, the engine answers code 10 "Not found column or subcolumn __sink_row in block" instead of no rows
    /// (measured). Its tag is outside the row indexes; an answer without it is not conclusive.
    /// </summary>
    public const string Anchor = "4294967295";

    private static readonly string Pad = new(' ', Padding);

    /// <summary>
    /// The SELECTs for these rows, or null when a row cannot be tagged (not one JSON object on one line, or not UTF-8):
    /// then the answer could not name it and the classification is not conclusive.
    /// </summary>
    /// <param name="table">The target table: its insertable columns and types are read from system.columns by the query itself.</param>
    /// <param name="rows">Row indexes (as the isolation knows them) and each row's JSONEachRow text.</param>
    /// <param name="insertSettings">The settings of the insert; those that steer parsing are repeated in the SELECT.</param>
    public static List<string>? Build(TableName table, IReadOnlyList<(int Row, ReadOnlyMemory<byte> Text)> rows, IReadOnlyDictionary<string, string> insertSettings)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(insertSettings);
        var head = Head(table);
        var tail = Tail(insertSettings);
        var queries = new List<string>();
        var data = new StringBuilder();
        var bytes = 0;
        foreach (var (row, text) in rows)
        {
            var tagged = Tag(row, text.Span);
            if (tagged is null)
            {
                return null;
            }

            var cost = LiteralBytes(tagged) + Padding + 2; // the newline is escaped as backslash-n in the literal
            if (data.Length > 0 && head.Length + tail.Length + bytes + cost + 64 > MaxQueryBytes)
            {
                bytes = 0;
                queries.Add(head + SqlIdentifier.Literal(data.Append(AnchorRow).ToString()) + tail);
                data.Clear();
            }

            data.Append(tagged).Append(Pad).Append('\n');
            bytes += cost;
        }

        if (data.Length > 0)
        {
            queries.Add(head + SqlIdentifier.Literal(data.Append(AnchorRow).ToString()) + tail);
        }

        return queries;
    }

    /// <summary>
    /// Runs the classification of <paramref name="rows"/>: the rows that parse, or null when the answer is not
    /// conclusive (a row cannot be tagged, the engine refuses the query as data, SQL or for want of a privilege, an
    /// answer names a stranger);
    /// and the requests made. Transient failures are the caller's <paramref name="query"/>'s to retry or throw.
    /// </summary>
    public static async Task<(HashSet<int>? Parsed, int Requests)> RunAsync(
        Func<string, Task<byte[]>> query, TableName table, List<int> rows, Func<int, ReadOnlyMemory<byte>> textOf, IReadOnlyDictionary<string, string> insertSettings)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(textOf);
        var queries = Build(table, rows.Select(r => (r, textOf(r))).ToList(), insertSettings);
        if (queries is null)
        {
            return (null, 0);
        }

        var asked = rows.ToHashSet();
        var parsed = new HashSet<int>();
        var requests = 0;
        foreach (var sql in queries)
        {
            requests++;
            byte[] answer;
            try
            {
                answer = await query(sql);
            }
            catch (ClickHouse.ClickHouseException e) when (e.Kind is ClickHouse.ClickHouseErrorKind.Data or ClickHouse.ClickHouseErrorKind.Permanent or ClickHouse.ClickHouseErrorKind.Permission)
            {
                // Permission: format() is a table function, which ClickHouse allows only with CREATE TEMPORARY TABLE (code
                // 497); a sink user without it still isolates bad rows, by probing, instead of failing the partition.
                return (null, requests);
            }

            var some = Parse(answer, asked);
            if (some is null || some.Overlaps(parsed))
            {
                return (null, requests);
            }

            parsed.UnionWith(some);
        }

        return (parsed, requests);
    }

    /// <summary>The rows a SELECT's TSV answer names; null when it names a row it was not given (not conclusive).</summary>
    public static HashSet<int>? Parse(ReadOnlySpan<byte> answer, IReadOnlySet<int> asked)
    {
        ArgumentNullException.ThrowIfNull(asked);
        var rows = new HashSet<int>();
        var anchored = false;
        foreach (var line in Encoding.UTF8.GetString(answer).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line == Anchor && !anchored)
            {
                anchored = true;
                continue;
            }

            if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var row) || !asked.Contains(row) || !rows.Add(row))
            {
                return null;
            }
        }

        return anchored ? rows : null;
    }

    /// <summary>UTF-8 bytes of the text inside a quoted literal (SqlIdentifier.Literal escapes these six characters with a backslash).</summary>
    private static int LiteralBytes(string text) => Encoding.UTF8.GetByteCount(text) + text.Count(c => c is '\\' or '\'' or '\0' or '\n' or '\r' or '\t');

    private static string AnchorRow => "{\"" + TagKey + "\":" + Anchor + "}\n";

    private static string Head(TableName table) =>
        $"SELECT {TagKey} FROM format(JSONEachRow, (SELECT concat('{TagKey} UInt64, ', arrayStringConcat(arrayMap(c -> concat('`', replaceAll(replaceAll(c.1, '\\\\', '\\\\\\\\'), '`', '\\\\`'), '` ', c.2), groupArray((name, type))), ', ')) " +
        $"FROM (SELECT name, type FROM system.columns WHERE database = {SqlIdentifier.Literal(table.Database)} AND table = {SqlIdentifier.Literal(table.Table)} " +
        "AND default_kind NOT IN ('MATERIALIZED', 'ALIAS') ORDER BY position)), ";

    /// <summary>The insert's parse settings (input_format_*, format_*, date_time_input_format), errors allowed.</summary>
    private static string Tail(IReadOnlyDictionary<string, string> insertSettings)
    {
        var sb = new StringBuilder(") SETTINGS input_format_allow_errors_ratio = 1, input_format_allow_errors_num = 0");
        foreach (var (k, v) in insertSettings.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (k is "input_format_allow_errors_ratio" or "input_format_allow_errors_num" || !(k.StartsWith("input_format_", StringComparison.Ordinal) || k.StartsWith("format_", StringComparison.Ordinal) || k == "date_time_input_format"))
            {
                continue;
            }

            if (!k.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                continue;
            }

            sb.Append(", ").Append(k).Append(" = ").Append(SqlIdentifier.Literal(v));
        }

        return sb.Append(" FORMAT TSV").ToString();
    }

    /// <summary><c>{...}</c> becomes <c>{"__sink_row":i,...}</c>; null for anything else.</summary>
    private static string? Tag(int row, ReadOnlySpan<byte> text)
    {
        while (text.Length > 0 && text[^1] is (byte)'\n' or (byte)'\r' or (byte)' ' or (byte)'\t')
        {
            text = text[..^1];
        }

        if (text.Length < 2 || text[0] != (byte)'{' || text[^1] != (byte)'}' || text.IndexOfAny((byte)'\n', (byte)'\r') >= 0 || !Utf8.IsValid(text))
        {
            return null;
        }

        var body = Encoding.UTF8.GetString(text[1..]);
        var empty = body.AsSpan().TrimStart(" \t").StartsWith("}", StringComparison.Ordinal);
        return string.Create(CultureInfo.InvariantCulture, $"{{\"{TagKey}\":{row}{(empty ? string.Empty : ",")}{body}");
    }
}
