using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
using MskClickHouse.Core.Runtime;

namespace MskClickHouse.Core.Audit;

/// <summary>
/// <c>SINK_MODE=audit</c>: one scheduled invocation checks every target table with offset columns for offsets present
/// more than once and for records the sink received and acknowledged that are neither in the table nor dead-lettered
/// nor skipped tombstones (docs/operations.md, "Audit"). It reads only: the state, target and dead-letter tables.
/// </summary>
public sealed class AuditHandler : IInvocationHandler
{
    private static readonly string[] OffsetColumns = ["_topic", "_partition", "_offset"];

    private readonly SinkOptions _options;
    private readonly AuditReader _reader;
    private readonly TableCatalog _catalog;
    private readonly ISinkLog _log;
    private readonly IAuditMetricsSink _metrics;
    private readonly TimeProvider _time;

    public AuditHandler(SinkOptions options, AuditReader reader, TableCatalog catalog, ISinkLog log, IAuditMetricsSink metrics, TimeProvider time)
    {
        _options = options;
        _reader = reader;
        _catalog = catalog;
        _log = log;
        _metrics = metrics;
        _time = time;
    }

    public async Task<byte[]> HandleAsync(InvocationContext context, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = AuditRequest.Parse(payload.Span, _options.AuditWindowHours, _options.Database);
        var now = _time.GetUtcNow();
        var since = now - TimeSpan.FromHours(request.WindowHours);
        var plans = await _reader.PlanRecordsAsync(_options.StateTable, _options.SinkId, since, cancellationToken);
        if (plans is null)
        {
            _log.Write(LogLevel.Warning, $"state table {_options.StateTable} records no range counts yet (no sink of this version has started): only duplicates are audited", new LogFields(Table: _options.StateTable.ToString()));
        }

        var tables = request.Tables
            ?? _options.Routes.Select(r => r.Table).Concat((plans ?? []).Select(p => TableOfState(p.Key.Topic)))
                .Where(t => t != Routing.TopicRoutes.UnroutedTable(_options.Database)).Distinct().OrderBy(t => t.ToString(), StringComparer.Ordinal).ToList();
        var audits = new List<TableAudit>();
        foreach (var table in tables)
        {
            var audit = await AuditTableAsync(table, plans, since, cancellationToken);
            audits.Add(audit);
            Report(audit);
        }

        _log.Write(
            audits.Any(a => a.DuplicateOffsets > 0 || a.MissingRecords > 0) ? LogLevel.Warning : LogLevel.Information,
            "audit summary",
            new LogFields(Numbers:
            [
                new("window_hours", request.WindowHours), new("tables", audits.Count), new("plan_records", plans?.Count ?? 0),
                new("duplicate_offsets", audits.Sum(a => a.DuplicateOffsets)), new("missing_records", audits.Sum(a => a.MissingRecords)),
                new("audited_ranges", audits.Sum(a => a.AuditedRanges)),
            ]));
        return AuditSummary.Write(request.WindowHours, audits);
    }

    private async Task<TableAudit> AuditTableAsync(TableName table, IReadOnlyList<PlanRecord>? plans, DateTimeOffset since, CancellationToken ct)
    {
        var audit = new TableAudit(table);
        var info = await _catalog.GetAsync(table, ct);
        if (!info.Exists)
        {
            _catalog.Forget(table);
            audit.Skipped.Add($"{table} does not exist");
            return audit;
        }

        if (!OffsetColumns.All(info.Columns.Contains))
        {
            audit.Skipped.Add($"{table} has no _topic, _partition and _offset columns: nothing tells its rows' offsets");
            return audit;
        }

        audit.Checked = true;
        var hasSource = info.Columns.Contains("_source");
        audit.Duplicates.AddRange(await _reader.DuplicatesAsync(table, hasSource, info.Columns.Contains("_timestamp"), since, ct));
        if (plans is null)
        {
            audit.Skipped.Add("missing records: the state table records no range counts yet");
            return audit;
        }

        var plan = AuditPlan.For(table, hasSource, plans, TableOfState, state => Routing.TopicRoutes.OfStateTopic(state, _options.Database).Topic);
        audit.Skipped.AddRange(plan.Skipped);
        var ranges = plan.Flattened();
        audit.AuditedRanges = ranges.Count;
        if (ranges.Count == 0)
        {
            return audit;
        }

        var found = await _reader.FoundAsync(table, hasSource, _options.DeadLetterTable, _options.SinkId, ranges, plan.DeadLetterSources, ct);
        foreach (var (partition, audited) in plan.Ranges)
        {
            audit.Missing.AddRange(MissingRecords.Compare(partition, audited, found.GetValueOrDefault(partition) ?? []));
        }

        return audit;
    }

    /// <summary>One EMF line per table; one log line per partition with findings (its first ranges).</summary>
    private void Report(TableAudit audit)
    {
        var table = audit.Table.ToString();
        if (audit.Checked)
        {
            _metrics.Publish(new AuditMetrics(table, audit.DuplicateOffsets, audit.MissingRecords));
        }

        foreach (var g in audit.Duplicates.GroupBy(d => d.Partition))
        {
            _log.Write(
                LogLevel.Warning,
                $"DuplicateOffsets: offsets present more than once: {FindingText.Of(g)}",
                new LogFields(g.Key.Topic, g.Key.Partition, g.First().Range.First, g.Last().Range.Last, table, Numbers: [new("offsets", g.Sum(d => d.Offsets)), new("extra_rows", g.Sum(d => d.ExtraRows)), new("ranges", g.Count())], Strings: [new("source", g.Key.Source)]));
        }

        foreach (var g in audit.Missing.GroupBy(m => m.Partition))
        {
            _log.Write(
                LogLevel.Warning,
                $"MissingRecords: delivered and acknowledged records neither in the table nor dead-lettered nor skipped tombstones: {FindingText.Of(g)}",
                new LogFields(g.Key.Topic, g.Key.Partition, g.First().Range.First, g.Last().Range.Last, table, Numbers: [new("missing", g.Sum(m => m.Missing)), new("ranges", g.Count())], Strings: [new("source", g.Key.Source)]));
        }

        foreach (var reason in audit.Skipped)
        {
            _log.Write(LogLevel.Warning, $"not audited: {reason}", new LogFields(Table: table));
        }

        _log.Write(LogLevel.Information, "table audited", new LogFields(Table: table, Numbers: [new("duplicate_offsets", audit.DuplicateOffsets), new("missing_records", audit.MissingRecords), new("audited_ranges", audit.AuditedRanges)]));
    }

    /// <summary>The table a state row was kept for: named in a routed state name (<c>topic@db.table</c>), else the topic's home table.</summary>
    private TableName TableOfState(string stateTopic) =>
        Routing.TopicRoutes.OfStateTopic(stateTopic, _options.Database).Table ?? _options.RouteOf(stateTopic);
}
