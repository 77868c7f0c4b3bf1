using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Drift;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;

namespace MskClickHouse.Core.Evolution;

/// <summary>
/// Before the inserts of an invocation: adds a column for every top-level field of the batch no column receives
/// (<c>SCHEMA_EVOLUTION=add-columns</c>) and creates a routed table that does not exist (<c>AUTO_CREATE_TABLES=true</c>),
/// so the first record that carries a field lands with its value. Every row is checked (not a sample); a table is
/// read from <c>system.columns</c> only when its rows carry a field the cached column list lacks.
/// </summary>
/// <remarks>
/// Safe under concurrency and retries: the DDL is <c>IF NOT EXISTS</c>, and the inserts' rows and tokens do not depend
/// on it, so a batch retried after an ALTER carries the same tokens and lands once. A column added by an invocation
/// that then fails stays, empty for the rows not yet inserted.
/// </remarks>
public sealed class SchemaEvolver
{
    public const string ColumnsAddedMetric = "ColumnsAdded";
    public const string TablesCreatedMetric = "TablesCreated";

    private readonly SinkOptions _options;
    private readonly IClickHouseGateway _gateway;
    private readonly TableCatalog _catalog;
    private readonly ISinkLog _log;
    private readonly IMetricsSink _metrics;
    private readonly TimeProvider _time;
    private readonly bool _importNestedJson;
    private readonly HashSet<TableName> _warned = [];

    private SchemaEvolver(SinkOptions options, IClickHouseGateway gateway, TableCatalog catalog, ISinkLog log, IMetricsSink metrics, TimeProvider time)
    {
        _options = options;
        _gateway = gateway;
        _catalog = catalog;
        _log = log;
        _metrics = metrics;
        _time = time;
        _importNestedJson = UnknownFieldsReporter.ImportsNestedJson(options.ExtraInsertSettings);
    }

    /// <summary>The evolver the options ask for; null when both options are off (no per-record work at all).</summary>
    public static SchemaEvolver? For(SinkOptions options, IClickHouseGateway gateway, TableCatalog catalog, ISinkLog log, IMetricsSink metrics, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.SchemaEvolution == SchemaEvolutionMode.Off && !options.AutoCreateTables
            ? null
            : new SchemaEvolver(options, gateway, catalog, log, metrics, time);
    }

    /// <summary>Whether a routed table found missing is created (its partitions are encoded for <see cref="CreatedTableColumns"/>).</summary>
    public bool CreatesTables => _options.AutoCreateTables;

    /// <summary>The column names a created table has before its fields: the metadata columns the sink fills.</summary>
    public static IEnumerable<string> CreatedTableColumns => EvolutionDdl.MetadataColumns.Select(c => c.Name);

    /// <summary>
    /// Creates the missing tables and adds the missing columns of <paramref name="partitions"/>' tables, waiting until
    /// they are visible.
    /// </summary>
    /// <param name="tables">What the catalog said of each table at the start of the invocation.</param>
    /// <returns>The tables that could not be prepared and why: their partitions must not be inserted.</returns>
    public async Task<Dictionary<TableName, ClickHouseException>> ApplyAsync(IReadOnlyList<EvolutionInput> partitions, IReadOnlyDictionary<TableName, TableInfo> tables, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentNullException.ThrowIfNull(tables);
        var failed = new Dictionary<TableName, ClickHouseException>();
        foreach (var group in partitions.GroupBy(p => p.Rows.Shape.Table))
        {
            if (!tables.TryGetValue(group.Key, out var info))
            {
                continue;
            }

            try
            {
                if (!info.Exists && _options.AutoCreateTables)
                {
                    await CreateAsync(info.Table, Scan(group, []), giveUpAt, ct);
                }
                else if (info.Exists && _options.SchemaEvolution == SchemaEvolutionMode.AddColumns)
                {
                    await AddColumnsAsync(info, Scan(group, info.Columns), giveUpAt, ct);
                }
            }
            catch (ClickHouseException e)
            {
                failed[group.Key] = e;
            }
        }

        return failed;
    }

    /// <summary>The typed new fields of a table's partitions, each with its first record (partitions in batch order).</summary>
    private List<NewField> Scan(IEnumerable<EvolutionInput> partitions, IEnumerable<string> columns)
    {
        var known = new KnownColumns(columns, _importNestedJson);
        var inputs = partitions.ToList();
        var found = new Dictionary<string, NewField>[inputs.Count];
        Parallel.For(0, inputs.Count, i => found[i] = NewFieldScan.Scan(inputs[i].Rows, known, SchemaColumnTypes.Of(inputs[i].Schemas)));
        var all = new Dictionary<string, NewField>(StringComparer.OrdinalIgnoreCase);
        foreach (var f in found)
        {
            NewFieldScan.Merge(all, f);
        }

        return all.Values.Where(f => f.Name.Length > 0).ToList();
    }

    private async Task CreateAsync(TableName table, List<NewField> fields, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        var typed = fields.Where(f => f.Type is not null).ToList();
        await DdlRunner.RunAsync(_gateway, EvolutionDdl.CreateTable(table, typed), isAlter: false, table, "CREATE TABLE", "AUTO_CREATE_TABLES=true", giveUpAt, _time, ct);
        _catalog.Forget(table);
        _metrics.PublishTableCount(TablesCreatedMetric, table.ToString(), 1);
        _log.Write(
            LogLevel.Information,
            $"table {table} created (AUTO_CREATE_TABLES=true): MergeTree ORDER BY (_topic, _partition, _offset), the metadata columns and {typed.Count} field column(s){(typed.Count == 0 ? string.Empty : ": " + Describe(typed))}",
            new LogFields(Table: table.ToString(), Strings: [new("metric", TablesCreatedMetric)]));

        // Another invocation may have created it at the same time from other fields: what it lacks is added below.
        var columns = await ColumnVisibility.WaitAsync(_gateway, table, [.. CreatedTableColumns], _importNestedJson, giveUpAt, _time, ct);
        await AddMissingAsync(table, typed, columns, giveUpAt, ct);
    }

    private async Task AddColumnsAsync(TableInfo info, List<NewField> fields, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        if (fields.Count == 0)
        {
            return;
        }

        var table = info.Table;
        if (info.Engine == "Distributed")
        {
            WarnOnce(table, $"schema evolution skipped for {table}: it is a Distributed table, whose local tables live on every shard; add the columns ON CLUSTER to the local tables and to it (docs/schema-evolution.md#clusters). Fields not added: {Describe(fields)}");
            return;
        }

        // The cached column list may be older than a column another invocation added: read the table before altering.
        var columns = await ColumnReader.ReadAsync(_gateway, table, ct);
        _catalog.Forget(table);
        await AddMissingAsync(table, fields.Where(f => f.Type is not null).ToList(), columns, giveUpAt, ct);
    }

    private async Task AddMissingAsync(TableName table, List<NewField> fields, IReadOnlyList<TableColumn> columns, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        var missing = fields.Where(f => !TableColumns.Receives(columns, f.Name, _importNestedJson)).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        await DdlRunner.RunAsync(_gateway, EvolutionDdl.AddColumns(table, missing), isAlter: true, table, "ALTER ADD COLUMN", "SCHEMA_EVOLUTION=add-columns", giveUpAt, _time, ct);
        _catalog.Forget(table);
        _metrics.PublishTableCount(ColumnsAddedMetric, table.ToString(), missing.Count);
        foreach (var f in missing)
        {
            _log.Write(
                LogLevel.Information,
                $"column {f.Name} {ColumnTypes.Nullable(f.Type!)} added to {table} (SCHEMA_EVOLUTION=add-columns): first carried by {f.Topic}/{f.Partition} offset {f.Offset}",
                new LogFields(f.Topic, f.Partition, f.Offset, Table: table.ToString(), Strings: [new("column", f.Name), new("type", ColumnTypes.Nullable(f.Type!)), new("metric", ColumnsAddedMetric)]));
        }

        await ColumnVisibility.WaitAsync(_gateway, table, [.. missing.Select(f => f.Name)], _importNestedJson, giveUpAt, _time, ct);
    }

    private void WarnOnce(TableName table, string message)
    {
        lock (_warned)
        {
            if (!_warned.Add(table))
            {
                return;
            }
        }

        _log.Write(LogLevel.Warning, message, new LogFields(Table: table.ToString()));
    }

    private static string Describe(IEnumerable<NewField> fields) =>
        string.Join(", ", fields.Take(50).Select(f => $"{(f.Name.Length > 200 ? f.Name[..200] + "…" : f.Name)} {ColumnTypes.Nullable(f.Type ?? ColumnTypes.String)}"));
}
