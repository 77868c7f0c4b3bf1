namespace MskClickHouse.Core.ClickHouse;

/// <summary>What the server reported for an insert (from X-ClickHouse-Summary).</summary>
public readonly record struct InsertResult(long WrittenRows, long WrittenBytes);

/// <summary>
/// The sink's only door to ClickHouse: one insert with its body and per-request settings, one query, one statement.
/// Implementations throw <see cref="ClickHouseException"/> for every failure.
/// </summary>
public interface IClickHouseGateway
{
    /// <summary>Runs <paramref name="insertSql"/> (<c>INSERT INTO t FORMAT X</c>) with the body's segments as its data.</summary>
    Task<InsertResult> InsertAsync(string insertSql, IReadOnlyList<ReadOnlyMemory<byte>> body, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken);

    /// <summary>Runs a query (with its own FORMAT clause) and returns the raw result bytes.</summary>
    Task<byte[]> QueryAsync(string sql, CancellationToken cancellationToken);

    /// <summary>Runs a statement whose result is not needed (DDL).</summary>
    Task ExecuteAsync(string sql, CancellationToken cancellationToken);

    /// <summary>Runs a statement whose result is not needed with per-request settings (an <c>INSERT … SELECT</c>).</summary>
    Task ExecuteAsync(string sql, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken);
}
