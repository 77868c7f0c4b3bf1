using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;

namespace MskClickHouse.Core.Drift;

/// <summary>
/// Compares each invocation's <see cref="FieldSample"/> with the target tables' columns and reports the fields
/// ClickHouse drops: metric <c>UnknownFields</c> (distinct unknown names of the invocation, dimension table) and one
/// warning per table naming the fields not logged before in this sandbox (a name is logged once per process; the
/// metric counts it every time it is sampled).
/// </summary>
/// <remarks>
/// The column list is this class's own, not <see cref="TableCatalog"/>'s (which is read once per cold start and
/// shapes the rows): it is read from <c>system.columns</c> at a table's first sample in the sandbox, read again when
/// older than <see cref="RefreshAfter"/> (a dropped column is seen within that time) and before reporting any
/// unknown field when older than <see cref="ConfirmAfter"/> (a column added by ALTER TABLE stops being reported
/// within that time). A failed read reports nothing for the table in this invocation: drift is informational and
/// never fails a partition.
/// </remarks>
public sealed class UnknownFieldsReporter
{
    public const string MetricName = "UnknownFields";

    /// <summary>Names logged per table at most (a producer writing map-like objects with ever new keys stays bounded).</summary>
    public const int MaxLoggedPerTable = 1000;

    /// <summary>Names in one log line at most.</summary>
    public const int MaxNamesPerLine = 50;

    public static readonly TimeSpan RefreshAfter = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan ConfirmAfter = TimeSpan.FromSeconds(60);

    private readonly IClickHouseGateway _gateway;
    private readonly bool _importNestedJson;
    private readonly ISinkLog _log;
    private readonly IMetricsSink _metrics;
    private readonly TimeProvider _time;
    private readonly Dictionary<TableName, (IReadOnlyList<TableColumn> Columns, DateTimeOffset ReadAt)> _views = [];
    private readonly Dictionary<TableName, HashSet<string>> _logged = [];

    /// <param name="every">UNKNOWN_FIELDS_SAMPLE (at least 1).</param>
    /// <param name="importNestedJson">Whether the inserts set <c>input_format_import_nested_json=1</c> (CLICKHOUSE_SETTINGS).</param>
    public UnknownFieldsReporter(int every, IClickHouseGateway gateway, bool importNestedJson, ISinkLog log, IMetricsSink metrics, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 1);
        Every = every;
        _gateway = gateway;
        _importNestedJson = importNestedJson;
        _log = log;
        _metrics = metrics;
        _time = time;
    }

    public int Every { get; }

    /// <summary>Whether CLICKHOUSE_SETTINGS turns on <c>input_format_import_nested_json</c> (then <c>{"n":{"x":[..]}}</c> fills Nested <c>n.x</c>).</summary>
    public static bool ImportsNestedJson(IReadOnlyDictionary<string, string> insertSettings)
    {
        ArgumentNullException.ThrowIfNull(insertSettings);
        return insertSettings.TryGetValue("input_format_import_nested_json", out var v)
            && (v.Trim() == "1" || v.Trim().Equals("true", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A new, empty sample for one invocation.</summary>
    public FieldSample NewSample() => new(Every);

    /// <summary>Reports the unknown fields of <paramref name="sample"/>; never throws for a ClickHouse failure, an unreadable answer or a timeout.</summary>
    public async Task ReportAsync(FieldSample sample, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sample);
        foreach (var (table, fields) in sample.Fields)
        {
            try
            {
                await ReportAsync(table, fields, cancellationToken);
            }
            catch (Exception e) when (e is ClickHouseException or OperationCanceledException or System.Text.Json.JsonException or InvalidOperationException)
            {
                _log.Write(LogLevel.Debug, $"unknown-field check skipped for {table}: its columns could not be read ({e.Message})", new LogFields(Table: table.ToString()));
            }
        }
    }

    private async Task ReportAsync(TableName table, Dictionary<string, FieldSighting> fields, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (!_views.TryGetValue(table, out var view) || now - view.ReadAt >= RefreshAfter)
        {
            view = await ReadAsync(table, ct);
        }

        var unknown = TableColumns.Unknown(view.Columns, fields.Keys, _importNestedJson);
        if (unknown.Count > 0 && now - view.ReadAt >= ConfirmAfter)
        {
            view = await ReadAsync(table, ct);
            unknown = TableColumns.Unknown(view.Columns, fields.Keys, _importNestedJson);
        }

        if (unknown.Count == 0 || view.Columns.Count == 0)
        {
            // No columns: the table is gone; the delivery reports that (MissingTable), not this check.
            return;
        }

        _metrics.PublishTableCount(MetricName, table.ToString(), unknown.Count);
        if (!_logged.TryGetValue(table, out var logged))
        {
            _logged[table] = logged = new HashSet<string>(StringComparer.Ordinal);
        }

        var fresh = new List<string>();
        foreach (var name in unknown)
        {
            if (logged.Count >= MaxLoggedPerTable)
            {
                break;
            }

            if (logged.Add(name))
            {
                fresh.Add(name);
            }
        }

        if (fresh.Count == 0)
        {
            return;
        }

        var at = fields[fresh[0]];
        var shown = string.Join(", ", fresh.Take(MaxNamesPerLine).Select(n => n.Length > 200 ? n[..200] + "…" : n));
        var more = fresh.Count > MaxNamesPerLine ? $" and {fresh.Count - MaxNamesPerLine} more" : string.Empty;
        var cap = logged.Count >= MaxLoggedPerTable ? $"; no further names of {table} are logged in this sandbox (limit {MaxLoggedPerTable}), the metric still counts them" : string.Empty;
        _log.Write(
            LogLevel.Warning,
            $"fields dropped by ClickHouse: table {table} has no column for {shown}{more} (first sampled at {at.Topic}/{at.Partition} offset {at.Offset}; 1 in {Every} records is checked){cap}. Add the columns (ALTER TABLE … ADD COLUMN) to keep them: runbook UnknownFields in docs/operations.md",
            new LogFields(at.Topic, at.Partition, at.Offset, Table: table.ToString(), Strings: [new("fields", string.Join(",", fresh)), new("metric", MetricName)]));
    }

    private async Task<(IReadOnlyList<TableColumn> Columns, DateTimeOffset ReadAt)> ReadAsync(TableName table, CancellationToken ct)
    {
        var columns = await ColumnReader.ReadAsync(_gateway, table, ct);
        var view = (columns, _time.GetUtcNow());
        _views[table] = view;
        return view;
    }
}
