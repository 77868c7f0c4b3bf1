using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Configuration;

/// <summary>
/// The sink's own tables, which no route may write into: the state table and the dead-letter table (which also holds
/// the replay's marks). The one home of that rule: the parser refuses a configured route into them (ROUTES,
/// TOPIC_TABLES: an init error), the table named like an unlisted topic is refused here (its records are unrouted), and
/// Routing's <c>RouteGuard</c> starts every route's check with it.
/// </summary>
public sealed class TableGuard
{
    private readonly TableName stateTable;
    private readonly TableName deadLetterTable;

    public TableGuard(TableName stateTable, TableName deadLetterTable)
    {
        this.stateTable = stateTable;
        this.deadLetterTable = deadLetterTable;
    }

    /// <summary>Null when a route may write into <paramref name="table"/>; else why not.</summary>
    public string? Refusal(TableName table) =>
        OwnTable(table) is { } why ? $"table {table} {why}: no route may write into it" : null;

    /// <summary>Which of the sink's own tables <paramref name="table"/> is ("is the sink's state table (STATE_TABLE)"); null when none.</summary>
    public string? OwnTable(TableName table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return table == stateTable ? "is the sink's state table (STATE_TABLE)"
            : table == deadLetterTable ? "is the sink's dead-letter table (DEAD_LETTER_TABLE)"
            : null;
    }
}
