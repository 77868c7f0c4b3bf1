using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;

namespace MskClickHouse.Core.Routing;

/// <summary>
/// The one check every route passes (default naming, TOPIC_TABLES, any later rule): a topic's records may go only to a
/// table of CLICKHOUSE_DATABASE that is not one of the sink's own — the state and dead-letter tables
/// (<see cref="TableGuard"/>, which the parser also applies) and the dry-run copies (<c>sink_dry_run_*</c> in the state
/// table's database). Pure.
/// </summary>
public sealed class RouteGuard
{
    /// <summary>The prefix of the dry-run copies the sink creates next to its state table (Delivery's DryRunTable).</summary>
    public const string DryRunPrefix = "sink_dry_run_";

    private readonly string database;
    private readonly string stateDatabase;
    private readonly TableGuard ownTables;

    public RouteGuard(SinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        database = options.Database;
        stateDatabase = options.StateTable.Database;
        ownTables = options.Guard;
    }

    /// <summary>Why <paramref name="topic"/> may not write to <paramref name="table"/>; null when it may.</summary>
    public string? Refusal(string topic, TableName table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var why = ownTables.OwnTable(table) ?? RefusedAsRoute(table);
        return why is null
            ? null
            : $"topic '{topic}' is refused: its table {table} {why}; no record of it is written anywhere (route it to a table of {database} with TOPIC_TABLES, or set DEFAULT_ROUTE=none)";
    }

    /// <summary>What only a route is checked for: a name of the dry-run copies next to the state table, another database.</summary>
    private string? RefusedAsRoute(TableName table) =>
        table.Database == stateDatabase && table.Table.StartsWith(DryRunPrefix, StringComparison.Ordinal) ? "is named like the sink's dry-run copies (sink_dry_run_*)"
            : !string.Equals(table.Database, database, StringComparison.Ordinal) ? $"is outside CLICKHOUSE_DATABASE ({database})"
            : null;
}
