using System.Diagnostics;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
using MskClickHouse.Core.Routing;
using MskClickHouse.Core.Rows;
using MskClickHouse.Core.Runtime;

namespace MskClickHouse.Core.Hosting;

/// <summary>
/// One invocation: decode → route (topic → table, the table's shape) → resolve schemas → encode ∥ plan (the
/// <see cref="PartitionLedger"/> records the plans while the partitions are encoded) → deliver every partition in
/// parallel (<see cref="PartitionSender"/>) → confirm (<see cref="PartitionLedger.ConfirmAsync"/>) → answer with the
/// partitions that must be retried.
/// </summary>
public sealed class SinkHandler : IInvocationHandler
{
    private readonly SinkOptions _options;
    private readonly TargetTables _tables;
    private readonly IStateStore _state;
    private readonly StateCache _cache;
    private readonly SenderServices _senders;
    private readonly ISinkLog _log;
    private readonly InvocationSummary _summary;
    private readonly TimeProvider _time;
    private readonly Func<double> _random;
    private readonly Formats.Registry.SchemaCache? _schemas;
    private readonly Drift.UnknownFieldsReporter? _unknownFields;
    private readonly Evolution.SchemaEvolver? _evolution;
    private readonly DetachedDeadLetters _detached;

    public SinkHandler(SinkOptions options, IClickHouseGateway gateway, TableCatalog catalog, IStateStore state, ISinkLog log, IMetricsSink metrics, TimeProvider time, Func<double> random, Formats.Registry.SchemaCache? schemas = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _evolution = Evolution.SchemaEvolver.For(options, gateway, catalog, log, metrics, time);
        _tables = new TargetTables(new TopicRouter(options), catalog, log, createsMissing: _evolution is { CreatesTables: true });
        _state = state;
        _cache = new StateCache(time);
        _senders = new SenderServices(gateway, options, log, time);
        _detached = new DetachedDeadLetters(gateway, options, time);
        _log = log;
        _summary = new InvocationSummary(options.PollerMode, log, metrics, time);
        _time = time;
        _random = random;
        _schemas = schemas;
        _unknownFields = options.UnknownFieldsSample > 0
            ? new Drift.UnknownFieldsReporter(options.UnknownFieldsSample, gateway, Drift.UnknownFieldsReporter.ImportsNestedJson(options.ExtraInsertSettings), log, metrics, time)
            : null;
    }

    public async Task<byte[]> HandleAsync(InvocationContext context, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = Stopwatch.GetTimestamp();
        using var batch = KafkaEventDecoder.Decode(payload.Span);
        using var budget = InvocationBudget.FromDeadline(context.Deadline, _options.DeadlineSafetyMargin, _time, cancellationToken);
        var retrier = new Retrier(budget, _log, _random);
        var gates = batch.Partitions.Select(p => (Partition: p, Route: _tables.Router.Gate(p.Topic))).ToList();
        // Unidentified records and partitions without a route first, outside the protocol: if they cannot be written
        // the invocation fails as a whole before anything else was done, and is retried.
        var settled = await WriteDetachedAsync(batch, SourceIdentity.Of(batch), gates, retrier);
        var refused = new List<PartitionOutcome>();
        foreach (var (partition, route) in gates.Where(g => g.Route.Kind == RouteKind.Refused))
        {
            var outcome = new PartitionOutcome(partition, route.Table);
            Fail(outcome, new RouteRefusedException(route.Reason!));
            refused.Add(outcome);
        }

        var routable = gates.Where(g => g.Route.Kind == RouteKind.Table).Select(g => g.Partition).ToList();
        RoutedUnits? units = null;
        List<PartitionOutcome> outcomes;
        try
        {
            units = await RoutedUnits.RouteAsync(batch, routable, _tables.Router, _options, _schemas, budget, _time, Fail);
            outcomes = [.. units.Outcomes, .. refused];
        }
        catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
        {
            // The schemas could not be looked up in time: nothing was routed, every partition is retried.
            outcomes = routable.Select(p => new PartitionOutcome(p, _tables.TableOf(p.Topic))).ToList();
            outcomes.ForEach(o => Fail(o, Explain(e, o)));
            outcomes.AddRange(refused);
        }

        var ledger = new PartitionLedger(_state, _cache, _options, _log, retrier, batch, outcomes, Fail, _time);
        var sample = _unknownFields?.NewSample(); // null when UNKNOWN_FIELDS_SAMPLE=0: no per-record work at all
        var encoded = Array.Empty<EncodedPartition?>();
        List<PlannedPartition> planned = [];
        try
        {
            try
            {
                var tables = new Dictionary<TableName, TableInfo>();
                var candidates = units is null ? new List<PlanCandidate>() : await _tables.ShapesAsync(outcomes.Where(o => !units.IsUnrouted(o)).ToList(), retrier, Fail, tables);
                candidates.AddRange(outcomes.Where(o => units!.IsUnrouted(o) && o.Failure is null).Select(o => units!.CandidateOf(o, _options)));
                if (candidates.Count > 0)
                {
                    encoded = new EncodedPartition?[candidates.Count];
                    planned = await EncodeWhilePlanningAsync(batch, candidates, units!, encoded, sample, ledger);
                    await EvolveAsync(candidates, encoded, units!, tables, budget);
                    await DeliverAllAsync(batch, ledger, planned, encoded, retrier);
                }
            }
            catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
            {
                // The state could not be read or recorded in time: nothing was inserted for the partitions not yet failed.
                foreach (var o in outcomes.Where(o => o.Failure is null))
                {
                    Fail(o, Explain(e, o));
                }

                planned = [];
            }

            await ledger.ConfirmAsync(planned, wholeBatch: planned.Count == outcomes.Count);
        }
        finally
        {
            foreach (var e in encoded)
            {
                e?.Dispose();
            }
        }

        var answer = _summary.Answer(context, batch, [.. outcomes, .. settled], Stopwatch.GetElapsedTime(started), units?.UnroutedSkipped ?? 0, units?.TombstonesSkipped ?? 0);
        if (sample is not null && _unknownFields is not null)
        {
            // Informational, after the answer is decided: bounded by the budget's report-by mark.
            await _unknownFields.ReportAsync(sample, budget.Reporting);
        }

        return answer;
    }

    /// <summary>
    /// Planning needs the offsets and the table shapes, not the rows: the partitions are encoded (CPU, in parallel across
    /// partitions) while the ledger reads, records and reads back the state. No insert starts before both are done.
    /// </summary>
    private async Task<List<PlannedPartition>> EncodeWhilePlanningAsync(KafkaBatch batch, List<PlanCandidate> candidates, RoutedUnits units, EncodedPartition?[] encoded, Drift.FieldSample? sample, PartitionLedger ledger)
    {
        var toEncode = Enumerable.Range(0, candidates.Count).Where(i => candidates[i].Outcome.Failure is null).ToList();
        Task encoding = Task.Run(() => units.Encode(batch, candidates, toEncode, encoded, _options.Tombstones, sample), CancellationToken.None);
        List<PlannedPartition> planned;
        try
        {
            planned = await ledger.PlanAsync(candidates);
        }
        finally
        {
            // Never leave with the encoder still writing: the caller disposes what was encoded.
            await encoding.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await encoding;
        if (planned.Count > 0)
        {
            foreach (var i in toEncode)
            {
                candidates[i].Outcome.TombstonesSkipped = encoded[i]!.TombstonesSkipped;
                WarnIfTruncated(encoded[i]!);
            }
        }

        return planned;
    }

    /// <summary>
    /// SCHEMA_EVOLUTION / AUTO_CREATE_TABLES: the columns and tables the encoded rows need exist before any insert; the
    /// partitions of a table that could not be prepared fail (retried).
    /// </summary>
    private async Task EvolveAsync(List<PlanCandidate> candidates, EncodedPartition?[] encoded, RoutedUnits units, Dictionary<TableName, TableInfo> tables, InvocationBudget budget)
    {
        if (_evolution is null)
        {
            return;
        }

        var inputs = Enumerable.Range(0, candidates.Count)
            .Where(i => candidates[i].Outcome.Failure is null && encoded[i] is not null && !units.IsUnrouted(candidates[i].Outcome))
            .Select(i => new Evolution.EvolutionInput(encoded[i]!, units.Schemas.GetValueOrDefault(candidates[i].Outcome.Partition)))
            .ToList();
        var refused = await _evolution.ApplyAsync(inputs, tables, budget.GiveUpAt, budget.Work);
        foreach (var c in candidates.Where(c => c.Outcome.Failure is null && refused.ContainsKey(c.Outcome.Table)))
        {
            Fail(c.Outcome, refused[c.Outcome.Table]);
        }
    }

    /// <summary>
    /// Every planned partition in parallel (up to INSERT_PARALLELISM requests at once): an insert group's members as one
    /// insert (<see cref="GroupSender"/>), every other partition by its plan (<see cref="PartitionSender"/>). Not
    /// cancelled as a whole: every partition ends with an outcome, delivered or failed, whatever the deadline.
    /// </summary>
    private async Task DeliverAllAsync(KafkaBatch batch, PartitionLedger ledger, List<PlannedPartition> planned, EncodedPartition?[] encoded, Retrier retrier)
    {
        ledger.FailGroupPeers(planned); // a member failed since planning (its table refused a column, say)
        var live = planned.Where(p => p.Outcome.Failure is null).ToList();
        var groups = live.Where(p => p.Group != 0).GroupBy(p => p.Group).Select(g => g.ToList());
        var alone = live.Where(p => p.Group == 0).Select(p => new List<PlannedPartition> { p });
        await Parallel.ForEachAsync(
            groups.Concat(alone).ToList(),
            new ParallelOptions { MaxDegreeOfParallelism = _options.InsertParallelism },
            async (unit, _) =>
            {
                try
                {
                    retrier.Token.ThrowIfCancellationRequested();
                    if (unit[0].Group != 0)
                    {
                        var members = unit.Select(p => new GroupMember(encoded[p.Index]!, p.Outcome, p.Plan.Sends[0], p.Plan.NewState.ScopeFor(_options.SinkId, ledger.Source))).ToList();
                        await new GroupSender(_senders, retrier, batch, ledger.Source, members, (o, e) => Fail(o, Explain(e, o))).SendAsync();
                        return;
                    }

                    var p = unit[0];
                    var sender = new PartitionSender(_senders, retrier, batch, ledger.Source, encoded[p.Index]!, p.Outcome, p.Plan.NewState.ScopeFor(_options.SinkId, ledger.Source));
                    await sender.SendPlanAsync(p.Plan);
                }
                catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
                {
                    foreach (var p in unit.Where(p => p.Outcome.Failure is null))
                    {
                        Fail(p.Outcome, Explain(e, p.Outcome));
                    }
                }
            });
    }

    /// <summary>
    /// Dead-letters the records no partition can hold (unidentified) and the partitions with no route, in one insert;
    /// returns the unrouted partitions' outcomes (settled: dead-lettered, never retried).
    /// </summary>
    private async Task<List<PartitionOutcome>> WriteDetachedAsync(KafkaBatch batch, SourceIdentity source, List<(PartitionRecords Partition, Route Route)> routes, Retrier retrier)
    {
        var unrouted = routes.Where(r => r.Route.Kind == RouteKind.Unrouted).Select(r => new DetachedDeadLetters.Unrouted(r.Partition, r.Route.Table, r.Route.Reason!)).ToList();
        await _detached.WriteAsync(batch, source, unrouted, retrier);
        // One line per record, the first few of an invocation; the metric counts them all.
        foreach (var u in batch.Unidentified.Take(10))
        {
            _log.Write(LogLevel.Warning, $"record dead-lettered under its place in the event (metric UnidentifiedRecords): {u.Record.Error}", new LogFields(u.Topic, u.Partition, u.DeadLetterOffset, u.DeadLetterOffset, _options.DeadLetterTable.ToString()));
        }

        if (batch.Unidentified.Count > 10)
        {
            _log.Write(LogLevel.Warning, $"{batch.Unidentified.Count - 10} more records dead-lettered under their place in the event (metric UnidentifiedRecords)");
        }

        foreach (var u in unrouted)
        {
            _log.Write(LogLevel.Warning, $"partition dead-lettered: {u.Reason}", new LogFields(u.Partition.Topic, u.Partition.Partition, u.Partition.FirstOffset, u.Partition.LastOffset, _options.DeadLetterTable.ToString()));
        }

        return unrouted.Select(u => new PartitionOutcome(u.Partition, u.NamedTable) { DeadLettered = u.Partition.Records.Length }).ToList();
    }

    /// <summary>Change events of op 't' leave the table as it was: said once per partition and batch (docs/cdc.md).</summary>
    private void WarnIfTruncated(EncodedPartition rows)
    {
        if (rows.TruncatesSkipped > 0)
        {
            _log.Write(
                LogLevel.Warning,
                "change events of op 't' skipped: the source table was truncated, but no row of the ClickHouse table was deleted (docs/cdc.md: truncate the table by hand)",
                new LogFields(rows.Source.Topic, rows.Source.Partition, rows.Source.FirstOffset, rows.Source.LastOffset, rows.Table.ToString(), Numbers: [new("truncates_skipped", rows.TruncatesSkipped)]));
        }
    }

    private static Exception Explain(Exception e, PartitionOutcome o) => e is OperationCanceledException
        ? new DeadlineReachedException(o)
        : e;

    private void Fail(PartitionOutcome outcome, Exception e)
    {
        outcome.Failure = e;
        _log.Write(
            LogLevel.Error,
            e switch
            {
                ClickHouseException { Kind: ClickHouseErrorKind.Permission or ClickHouseErrorKind.Auth } =>
                    $"partition not delivered: ClickHouse refused the sink's user (permission, authentication or configuration; not retried, metric RefusedPartitions): {e.Message}",
                ClickHouseException { Kind: ClickHouseErrorKind.QueryLimit } =>
                    $"partition not delivered: its insert exceeded a per-query limit, and the same batch meets it again (not retried within the invocation, metric QueryLimitPartitions): {e.Message}",
                _ => $"partition not delivered, reported for retry: {e.Message}",
            },
            new LogFields(outcome.Source.Topic, outcome.Source.Partition, outcome.Source.FirstOffset, outcome.Source.LastOffset, outcome.Table.ToString(), (e as ClickHouseException)?.ServerCode),
            e is ClickHouseException ? null : e);
    }
}
