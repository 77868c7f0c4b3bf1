using System.Buffers;
using System.Text;

namespace MskClickHouse.Core.ClickHouse;

/// <summary>A ClickHouse table, database-qualified. <see cref="Sql"/> is safe to splice into SQL text.</summary>
public sealed record TableName
{
    public TableName(string database, string table)
    {
        if (string.IsNullOrEmpty(database))
        {
            throw new ArgumentException("database name is empty", nameof(database));
        }

        if (string.IsNullOrEmpty(table))
        {
            throw new ArgumentException("table name is empty", nameof(table));
        }

        Database = database;
        Table = table;
        Sql = SqlIdentifier.Quote(database) + "." + SqlIdentifier.Quote(table);
    }

    public string Database { get; }

    public string Table { get; }

    /// <summary>Back-quoted, escaped <c>`db`.`table`</c>.</summary>
    public string Sql { get; }

    /// <summary>
    /// Parses <c>table</c> or <c>db.table</c>; either part may be back-quoted (<c>`my.db`.`t`</c>) to hold a dot.
    /// </summary>
    public static TableName Parse(string text, string defaultDatabase)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = SqlIdentifier.SplitQualified(text.Trim());
        return parts.Count switch
        {
            1 => new TableName(defaultDatabase, parts[0]),
            2 => new TableName(parts[0], parts[1]),
            _ => throw new FormatException($"'{text}' is not a table name (expected table or database.table)"),
        };
    }

    public override string ToString() => Database + "." + Table;
}

/// <summary>Quoting of ClickHouse identifiers and string literals: no name can inject SQL.</summary>
public static class SqlIdentifier
{
    /// <summary>Back-quotes an identifier, escaping backslashes and back-quotes.</summary>
    public static string Quote(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var sb = new StringBuilder(identifier.Length + 2).Append('`');
        AppendEscaped(sb, identifier, '`');
        return sb.Append('`').ToString();
    }

    /// <summary>Single-quotes a string literal, escaping backslashes and quotes.</summary>
    public static string Literal(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var sb = new StringBuilder(value.Length + 2).Append('\'');
        AppendEscaped(sb, value, '\'');
        return sb.Append('\'').ToString();
    }

    internal static List<string> SplitQualified(string text)
    {
        var parts = new List<string>(2);
        var current = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '`')
            {
                i++;
                while (i < text.Length && text[i] != '`')
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }

                    current.Append(text[i]);
                    i++;
                }

                if (i >= text.Length)
                {
                    throw new FormatException($"'{text}' has an unclosed back-quote");
                }

                i++;
            }
            else if (text[i] == '.')
            {
                parts.Add(Finish(current, text));
                i++;
            }
            else
            {
                current.Append(text[i]);
                i++;
            }
        }

        parts.Add(Finish(current, text));
        return parts;
    }

    private static string Finish(StringBuilder current, string text)
    {
        if (current.Length == 0)
        {
            throw new FormatException($"'{text}' has an empty name part");
        }

        var s = current.ToString();
        current.Clear();
        return s;
    }

    private static readonly SearchValues<char> Escaped = SearchValues.Create("\\\0\n\r\t'`");

    /// <summary>
    /// Appends <paramref name="value"/> with backslash, NUL, newline, carriage return, tab and <paramref name="quote"/>
    /// escaped; the runs between them are appended whole (state writes carry their rows in one long literal).
    /// </summary>
    private static void AppendEscaped(StringBuilder sb, string value, char quote)
    {
        var rest = value.AsSpan();
        while (true)
        {
            var next = rest.IndexOfAny(Escaped);
            if (next < 0)
            {
                sb.Append(rest);
                return;
            }

            sb.Append(rest[..next]);
            var c = rest[next];
            switch (c)
            {
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\0':
                    sb.Append("\\0");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                default:
                    if (c == quote)
                    {
                        sb.Append('\\');
                    }

                    sb.Append(c);
                    break;
            }

            rest = rest[(next + 1)..];
        }
    }
}
