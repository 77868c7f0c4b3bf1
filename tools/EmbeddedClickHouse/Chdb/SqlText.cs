using System.Text;
using System.Text.RegularExpressions;

namespace MskClickHouse.EmbeddedClickHouse.Chdb;

/// <summary>Small helpers for SQL the server writes itself.</summary>
internal static partial class SqlText
{
    /// <summary>A ClickHouse string literal.</summary>
    public static string Quote(string value)
    {
        var builder = new StringBuilder(value.Length + 2).Append('\'');
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => builder.Append(@"\\"),
                '\'' => builder.Append(@"\'"),
                _ => builder.Append(c),
            };
        }

        return builder.Append('\'').ToString();
    }

    /// <summary>A ClickHouse identifier in backquotes.</summary>
    public static string QuoteIdentifier(string name) =>
        "`" + name.Replace("\\", @"\\", StringComparison.Ordinal).Replace("`", "\\`", StringComparison.Ordinal) + "`";

    public static bool IsSettingName(string name) => SettingName().IsMatch(name);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex SettingName();
}
