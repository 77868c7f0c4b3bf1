using MskClickHouse.Core.Errors;





namespace MskClickHouse.Core.ClickHouse;

/// <summary>How the sink reacts to a ClickHouse failure.</summary>
public enum ClickHouseErrorKind
{
    /// <summary>Connection errors, timeouts, overload, 5xx: retry the same request.</summary>
    Transient,

    /// <summary>The data of the insert was rejected (parse or type errors): dead-letter the row.</summary>
    Data,

    /// <summary>The table or database does not exist.</summary>
    MissingTable,

    /// <summary>Authentication failed (wrong password, unknown user): a rotated secret may fix it.</summary>
    Auth,

    /// <summary>A permission or configuration error (READONLY, ACCESS_DENIED, setting constraints): no retry fixes it.</summary>
    Permission,

    /// <summary>
    /// The request exceeded a limit of its own (max_execution_time, max_memory_usage, max_rows_to_*): the same request
    /// meets it again, so it is not retried within the invocation; the partition fails (metric QueryLimitPartitions).
    /// </summary>
    QueryLimit,

    /// <summary>
    /// A materialized view fed by the insert threw for the block (no row named). The table's own block may be
    /// committed: only the same body under the same token may be sent again; the partition fails naming the view.
    /// </summary>
    ViewRejected,

    /// <summary>Anything else: not retried within the invocation.</summary>
    Permanent,
}

/// <summary>A failed ClickHouse request: the server's error code (if it answered), and whether a retry may help.</summary>
public sealed class ClickHouseException : SinkException
{
    public ClickHouseException(string message, ClickHouseErrorKind kind, int? serverCode = null, int? httpStatus = null, int? rowNumber = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        ServerCode = serverCode;
        HttpStatus = httpStatus;
        RowNumber = rowNumber;
    }

    public ClickHouseErrorKind Kind { get; }

    /// <summary>ClickHouse's error code (e.g. 60 UNKNOWN_TABLE), null when the server did not answer.</summary>
    public int? ServerCode { get; }

    public int? HttpStatus { get; }

    /// <summary>The 1-based row of the insert body the server complained about ("(at row N)"), when it said.</summary>
    public int? RowNumber { get; }

    public override bool IsRetryable => Kind == ClickHouseErrorKind.Transient;
}
