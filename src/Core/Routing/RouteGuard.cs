using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;

namespace MskClickHouse.Core.Routing;

/// <summary>
/// The one check every route passes (default naming, TOPIC_TABLES, any later rule): a topic's records may go only to a
/// table of CLICKHOUSE_DATABASE that is not one of the sink's own — the state table, the dead-letter table (which also
/// holds the replay's marks) and the dry-run copies (<c>sink_dry_run_*</c> in the state table's database). Pure.
/// </summary>
public sealed class RouteGuard
{
    /// <summary>The prefix of the dry-run copies the sink creates next to its state table (Delivery's DryRunTable).</summary>
    public const string DryRunPrefix = "sink_dry_run_";

    private readonly string database;
    private readonly TableName state;
    private readonly TableName deadLetters;

    public RouteGuard(SinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        database = options.Database;
        state = options.StateTable;
        deadLetters = options.DeadLetterTable;
    }

    /// <summary>Why <paramref name="topic"/> may not write to <paramref name="table"/>; null when it may.</summary>
    public string? Refusal(string topic, TableName table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var why = table == state ? "is the sink's state table (STATE_TABLE)"
            : table == deadLetters ? "is the sink's dead-letter table (DEAD_LETTER_TABLE)"
            : table.Database == state.Database && table.Table.StartsWith(DryRunPrefix, StringComparison.Ordinal) ? "is named like the sink's dry-run copies (sink_dry_run_*)"
            : !string.Equals(table.Database, database, StringComparison.Ordinal) ? $"is outside CLICKHOUSE_DATABASE ({database})"
            : null;
        return why is null
            ? null
            : $"topic '{topic}' is refused: its table {table} {why}; no record of it is written anywhere (route it to a table of {database} with TOPIC_TABLES, or set DEFAULT_ROUTE=none)";
    }
}
