using System.Collections.Frozen;
using System.Globalization;
using System.Text.RegularExpressions;

namespace MskClickHouse.Core.ClickHouse;

/// <summary>
/// Pure classification of ClickHouse error codes and messages. The data codes are the ones the engine answered when
/// each column type family was sent an invalid value (recorded per case in tests/Core.Tests/ClickHouse/RejectedValueCorpusTests.cs).
/// </summary>
public static partial class ClickHouseErrors
{
    /// <summary>
    /// Conditions that can clear by themselves: network (210, 209, 1002), timeouts (159), overload (202 too many
    /// simultaneous queries, 203 no free connection, 241 memory limit), too many parts while merges catch up (252, but
    /// see <see cref="Classify(int, string)"/>), Keeper/replica hiccups (242 table read-only while Keeper reconnects,
    /// 285, 319, 425, 999), 3 unexpected end of file on the wire.
    /// </summary>
    public static readonly FrozenSet<int> TransientCodes = new[]
    {
        3, 159, 202, 203, 209, 210, 241, 242, 252, 285, 319, 425, 999, 1002,
    }.ToFrozenSet();

    /// <summary>
    /// Codes that mean "this row cannot be inserted into this table", as the engine answered for invalid values:
    /// 6 CANNOT_PARSE_TEXT, 25 CANNOT_PARSE_ESCAPE_SEQUENCE (String), 26 CANNOT_PARSE_QUOTED_STRING (FixedString),
    /// 27 CANNOT_PARSE_INPUT_ASSERTION_FAILED (Int/Decimal/Nullable/Array/Map/Tuple/malformed row), 32 ATTEMPT_TO_READ_AFTER_EOF,
    /// 38 CANNOT_PARSE_DATE (Date, Date32), 41 CANNOT_PARSE_DATETIME (DateTime, DateTime64, Time), 53 TYPE_MISMATCH,
    /// 69 ARGUMENT_OUT_OF_BOUND (Decimal), 70 CANNOT_CONVERT_TYPE, 72 CANNOT_PARSE_NUMBER (UInt, Float),
    /// 117 INCORRECT_DATA (JSON, Variant, Dynamic, unbalanced brackets), 130 CANNOT_READ_ARRAY_FROM_TEXT,
    /// 131 TOO_LARGE_STRING_SIZE (FixedString), 190 SIZES_OF_ARRAYS_DONT_MATCH, 349 CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN,
    /// 376 CANNOT_PARSE_UUID, 395 FUNCTION_THROW_IF_VALUE_IS_NON_ZERO (a DEFAULT expression that throws for the row),
    /// 467 CANNOT_PARSE_BOOL, 469 VIOLATED_CONSTRAINT (CHECK), 675 CANNOT_PARSE_IPV4, 676 CANNOT_PARSE_IPV6,
    /// 691 UNKNOWN_ELEMENT_OF_ENUM (Enum8/16).
    /// </summary>
    public static readonly FrozenSet<int> DataCodes = new[]
    {
        6, 25, 26, 27, 32, 38, 41, 53, 69, 70, 72, 117, 130, 131, 190, 349, 376, 395, 467, 469, 675, 676, 691,
    }.ToFrozenSet();

    /// <summary>Data codes raised after the whole block was parsed (so a parse-only probe does not see them).</summary>
    public static readonly FrozenSet<int> BlockLevelDataCodes = new[] { 395, 469 }.ToFrozenSet();

    public static readonly FrozenSet<int> MissingTableCodes = new[] { 60, 81 }.ToFrozenSet();

    /// <summary>
    /// Authentication: 516 AUTHENTICATION_FAILED (what the server answers for a wrong password or unknown user),
    /// 192 UNKNOWN_USER, 193 WRONG_PASSWORD, 194 REQUIRED_PASSWORD, 195 IP_ADDRESS_NOT_ALLOWED. A rotated secret fixes these.
    /// </summary>
    public static readonly FrozenSet<int> AuthCodes = new[] { 192, 193, 194, 195, 516 }.ToFrozenSet();

    /// <summary>
    /// Permissions and configuration that no retry fixes: 164 READONLY, 497 ACCESS_DENIED, 291 DATABASE_ACCESS_DENIED,
    /// 452 SETTING_CONSTRAINT_VIOLATION, 115 UNKNOWN_SETTING, 455 SUSPICIOUS_TYPE_FOR_LOW_CARDINALITY (settings profile).
    /// </summary>
    public static readonly FrozenSet<int> PermissionCodes = new[] { 115, 164, 291, 452, 455, 497 }.ToFrozenSet();

    /// <summary>The class of a server code alone (no message).</summary>
    public static ClickHouseErrorKind Classify(int serverCode) =>
        TransientCodes.Contains(serverCode) ? ClickHouseErrorKind.Transient
        : DataCodes.Contains(serverCode) ? ClickHouseErrorKind.Data
        : MissingTableCodes.Contains(serverCode) ? ClickHouseErrorKind.MissingTable
        : AuthCodes.Contains(serverCode) ? ClickHouseErrorKind.Auth
        : PermissionCodes.Contains(serverCode) ? ClickHouseErrorKind.Permission
        : ClickHouseErrorKind.Permanent;

    /// <summary>
    /// The class of a server answer. 252 TOO_MANY_PARTS covers both "too many parts" (merges catch up: transient) and
    /// "Too many partitions for single INSERT block" (the same rows fail again: deterministic). An unknown code whose
    /// message names a row is about that row's content, so it is data; any other unknown code is not retried.
    /// </summary>
    public static ClickHouseErrorKind Classify(int serverCode, string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (serverCode == 252 && message.Contains("partitions for single INSERT block", StringComparison.OrdinalIgnoreCase))
        {
            return ClickHouseErrorKind.Permanent;
        }

        var kind = Classify(serverCode);
        return kind == ClickHouseErrorKind.Permanent && RowNumberOf(message) is not null ? ClickHouseErrorKind.Data : kind;
    }

    /// <summary>Whether a code is one the classification lists; unknown codes are logged with their text.</summary>
    public static bool IsKnown(int serverCode) =>
        TransientCodes.Contains(serverCode) || DataCodes.Contains(serverCode) || MissingTableCodes.Contains(serverCode)
        || AuthCodes.Contains(serverCode) || PermissionCodes.Contains(serverCode);

    /// <summary>Classification of a bare HTTP status when the body carried no code.</summary>
    public static ClickHouseErrorKind ClassifyStatus(int httpStatus) => httpStatus switch
    {
        401 => ClickHouseErrorKind.Auth,
        403 => ClickHouseErrorKind.Permission,
        404 => ClickHouseErrorKind.MissingTable,
        408 or 429 or >= 500 => ClickHouseErrorKind.Transient,
        _ => ClickHouseErrorKind.Permanent,
    };

    /// <summary>
    /// The 1-based row of the insert body a message names; null if it names none. Shapes the engine uses: parse errors
    /// end with "(at row N)", CHECK constraints say "is violated at row N", and errors while skipping bad rows say
    /// "(Already have K errors out of M rows ...): (at row N)".
    /// </summary>
    public static int? RowNumberOf(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var m = AtRow().Match(message);
        return m.Success && int.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var row) && row > 0 ? row : null;
    }

    /// <summary>The code of a "Code: N. DB::Exception: ..." message; null if it has none.</summary>
    public static int? CodeOf(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var m = CodePrefix().Match(message);
        return m.Success && int.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? code : null;
    }

    [GeneratedRegex(@"(?:\(at row|violated at row|at row:?)\s+(\d+)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex AtRow();

    [GeneratedRegex(@"Code:\s*(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex CodePrefix();
}
