using System.Globalization;
using System.Text.RegularExpressions;

namespace MskClickHouse.EmbeddedClickHouse.Chdb;

/// <summary>An error reported by the engine, with ClickHouse's numeric error code.</summary>
internal sealed partial class ChdbException : Exception
{
    public ChdbException(int code, string message)
        : base(message)
    {
        Code = code;
    }

    public ChdbException()
    {
    }

    public ChdbException(string message)
        : base(message)
    {
    }

    public ChdbException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>ClickHouse's error code (ErrorCodes.cpp), 0 when the text carried none.</summary>
    public int Code { get; }

    /// <summary>
    /// Builds the exception from chDB's error text, which looks like
    /// <c>Code: 60. DB::Exception: ... (UNKNOWN_TABLE)</c>, sometimes with that prefix twice.
    /// The message keeps one prefix, as the HTTP interface of a real server does.
    /// </summary>
    public static ChdbException FromEngineText(string text)
    {
        var trimmed = text.Trim();
        var match = Prefix().Match(trimmed);
        if (!match.Success)
        {
            return new ChdbException(0, "Code: 0. DB::Exception: " + trimmed);
        }

        var code = int.Parse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
        var rest = trimmed[match.Length..];
        while (Prefix().Match(rest) is { Success: true } again && again.Groups[1].Value == match.Groups[1].Value)
        {
            rest = rest[again.Length..];
        }

        return new ChdbException(code, $"Code: {code}. DB::Exception: {rest}");
    }

    [GeneratedRegex(@"^Code: (\d+)\. DB::Exception: ")]
    private static partial Regex Prefix();
}
