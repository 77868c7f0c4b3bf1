using System.Collections.Frozen;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MskClickHouse.Core.ClickHouse;

/// <summary>Pure classification of ClickHouse error codes and messages.</summary>
public static partial class ClickHouseErrors
{
    /// <summary>Codes worth retrying: network, timeouts, overload, too many parts, Keeper hiccups.</summary>
    public static readonly FrozenSet<int> TransientCodes = new[]
    {
        3, 159, 164, 202, 203, 209, 210, 242, 252, 285, 319, 425, 999, 1002,
    }.ToFrozenSet();

    /// <summary>Codes that mean "this data cannot be inserted into this table".</summary>
    public static readonly FrozenSet<int> DataCodes = new[]
    {
        6, 25, 26, 27, 32, 38, 41, 53, 69, 70, 72, 117, 130, 131, 190, 349, 378,
    }.ToFrozenSet();

    public static readonly FrozenSet<int> MissingTableCodes = new[] { 60, 81 }.ToFrozenSet();

    public static readonly FrozenSet<int> AuthCodes = new[] { 192, 193, 194, 195, 291, 497, 516 }.ToFrozenSet();

    public static ClickHouseErrorKind Classify(int serverCode) =>
        TransientCodes.Contains(serverCode) ? ClickHouseErrorKind.Transient
        : DataCodes.Contains(serverCode) ? ClickHouseErrorKind.Data
        : MissingTableCodes.Contains(serverCode) ? ClickHouseErrorKind.MissingTable
        : AuthCodes.Contains(serverCode) ? ClickHouseErrorKind.Auth
        : ClickHouseErrorKind.Permanent;

    /// <summary>Classification of a bare HTTP status when the body carried no code.</summary>
    public static ClickHouseErrorKind ClassifyStatus(int httpStatus) => httpStatus switch
    {
        401 or 403 => ClickHouseErrorKind.Auth,
        404 => ClickHouseErrorKind.MissingTable,
        408 or 429 or >= 500 => ClickHouseErrorKind.Transient,
        _ => ClickHouseErrorKind.Permanent,
    };

    /// <summary>The row ClickHouse names in "(at row N)", 1-based; null if the message names none.</summary>
    public static int? RowNumberOf(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var m = AtRow().Match(message);
        return m.Success && int.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var row) ? row : null;
    }

    /// <summary>The code of a "Code: N. DB::Exception: ..." message; null if it has none.</summary>
    public static int? CodeOf(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var m = CodePrefix().Match(message);
        return m.Success && int.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : null;
    }

    [GeneratedRegex(@"\(at row (\d+)\)", RegexOptions.CultureInvariant)]
    private static partial Regex AtRow();

    [GeneratedRegex(@"Code:\s*(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex CodePrefix();
}
