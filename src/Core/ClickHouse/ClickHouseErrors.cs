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
    /// Conditions that can clear by themselves: network (210, 209, 1002), overload (202 too many simultaneous queries,
    /// 203 no free connection, 241 when the server's or the user's memory is exhausted, see
    /// <see cref="Classify(int, string)"/>), too many parts while merges catch up (252, idem), Keeper/replica hiccups
    /// (242 table read-only while Keeper reconnects, 285 too few live replicas, 286 the previous quorum insert is not
    /// yet confirmed, 289 this replica is not in the quorum, 319 unknown status of insert, 425, 999), 3 unexpected end
    /// of file on the wire.
    /// </summary>
    public static readonly FrozenSet<int> TransientCodes = new[]
    {
        3, 202, 203, 209, 210, 241, 242, 252, 285, 286, 289, 319, 425, 999, 1002,
    }.ToFrozenSet();

    /// <summary>
    /// A per-query limit the request exceeded (max_execution_time 159 TIMEOUT_EXCEEDED, max_rows/bytes_to_* 158, 307,
    /// 396, min_execution_speed 160 TOO_SLOW, 290 LIMIT_EXCEEDED; 241 when the message says "Query memory limit"): the
    /// same body under the same settings meets it again, so it is not retried within the invocation.
    /// </summary>
    public static readonly FrozenSet<int> QueryLimitCodes = new[] { 158, 159, 160, 290, 307, 396 }.ToFrozenSet();

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
        : QueryLimitCodes.Contains(serverCode) ? ClickHouseErrorKind.QueryLimit
        : DataCodes.Contains(serverCode) ? ClickHouseErrorKind.Data
        : MissingTableCodes.Contains(serverCode) ? ClickHouseErrorKind.MissingTable
        : AuthCodes.Contains(serverCode) ? ClickHouseErrorKind.Auth
        : PermissionCodes.Contains(serverCode) ? ClickHouseErrorKind.Permission
        : ClickHouseErrorKind.Permanent;

    /// <summary>
    /// The class of a server answer. 252 TOO_MANY_PARTS covers both "too many parts" (merges catch up: transient) and
    /// "Too many partitions for single INSERT block" (the same rows fail again: deterministic); 241 covers both the
    /// server's or user's memory (transient) and the query's own max_memory_usage ("Query memory limit exceeded": a
    /// query limit). A data error raised while pushing the block to a materialized view ("while pushing to view
    /// db.v") is the view's, not a row's: the engine names no row and has already committed the table's block
    /// (recorded in TopologyEngineTests), so it is <see cref="ClickHouseErrorKind.ViewRejected"/>. An unknown code
    /// whose message names a row is about that row's content, so it is data; any other unknown code is not retried.
    /// </summary>
    public static ClickHouseErrorKind Classify(int serverCode, string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (serverCode == 252 && message.Contains("partitions for single INSERT block", StringComparison.OrdinalIgnoreCase))
        {
            return ClickHouseErrorKind.Permanent;
        }

        if (serverCode == 241 && message.Contains("Query memory limit exceeded", StringComparison.OrdinalIgnoreCase))
        {
            return ClickHouseErrorKind.QueryLimit;
        }

        var kind = Classify(serverCode);
        if (ViewOf(message) is not null)
        {
            return kind is ClickHouseErrorKind.Data or ClickHouseErrorKind.Permanent ? ClickHouseErrorKind.ViewRejected : kind;
        }

        return kind == ClickHouseErrorKind.Permanent && RowNumberOf(message) is not null ? ClickHouseErrorKind.Data : kind;
    }

    /// <summary>The view a message says the error was raised in ("while pushing to view db.v"); null if none.</summary>
    public static string? ViewOf(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var m = PushingToView().Match(message);
        return m.Success ? m.Groups[1].Value.TrimEnd('.') : null;
    }

    /// <summary>Whether a code is one the classification lists; unknown codes are logged with their text.</summary>
    public static bool IsKnown(int serverCode) =>
        TransientCodes.Contains(serverCode) || QueryLimitCodes.Contains(serverCode) || DataCodes.Contains(serverCode) || MissingTableCodes.Contains(serverCode)
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

    [GeneratedRegex(@"while pushing to view (\S+)", RegexOptions.CultureInvariant)]
    private static partial Regex PushingToView();

    [GeneratedRegex(@"Code:\s*(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex CodePrefix();
}
