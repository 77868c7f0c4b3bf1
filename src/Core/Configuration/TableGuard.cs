using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Configuration;

/// <summary>
/// The one check every table a route resolves to passes, whether configured (ROUTES, TOPIC_TABLES: an init error) or
/// derived from a topic name (the table named like an unlisted topic: its records are unrouted): a route never writes
/// into the sink's own state or dead-letter table.
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
    public string? Refusal(TableName table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return table == stateTable ? $"table {table} is the sink's state table (STATE_TABLE): no route may write into it"
            : table == deadLetterTable ? $"table {table} is the sink's dead-letter table (DEAD_LETTER_TABLE): no route may write into it"
            : null;
    }
}
