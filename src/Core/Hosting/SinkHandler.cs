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

    public SinkHandler(SinkOptions options, IClickHouseGateway gateway, TableCatalog catalog, IStateStore state, ISinkLog log, IMetricsSink metrics, TimeProvider time, Func<double> random, Formats.Registry.SchemaCache? schemas = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _tables = new TargetTables(new TopicRouter(options), catalog, log);
        _state = state;
        _cache = new StateCache(time);
        _senders = new SenderServices(gateway, options, log, time);
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
        RoutedUnits? units = null;
        List<PartitionOutcome> outcomes;
        try
        {
            units = await RoutedUnits.RouteAsync(batch, _tables.Router, _options, _schemas, budget, _time, Fail);
            outcomes = units.Outcomes;
        }
        catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
        {
            // The schemas could not be looked up in time: nothing was routed, every partition is retried.
            outcomes = batch.Partitions.Select(p => new PartitionOutcome(p, _tables.TableOf(p.Topic))).ToList();
            outcomes.ForEach(o => Fail(o, Explain(e, o)));
        }

        var ledger = new PartitionLedger(_state, _cache, _options, _log, retrier, batch, outcomes, Fail);
        var sample = _unknownFields?.NewSample(); // null when UNKNOWN_FIELDS_SAMPLE=0: no per-record work at all
        var encoded = Array.Empty<EncodedPartition?>();
        List<PlannedPartition> planned = [];
        try
        {
            try
            {
                var candidates = units is null ? new List<PlanCandidate>() : await _tables.ShapesAsync(outcomes.Where(o => !units.IsUnrouted(o)).ToList(), retrier, Fail);
                candidates.AddRange(outcomes.Where(o => units!.IsUnrouted(o) && o.Failure is null).Select(o => units!.CandidateOf(o, _options)));
                if (candidates.Count > 0)
                {
                    encoded = new EncodedPartition?[candidates.Count];
                    planned = await EncodeWhilePlanningAsync(batch, candidates, units!, encoded, sample, ledger);
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

        var answer = _summary.Answer(context, batch, outcomes, Stopwatch.GetElapsedTime(started), units?.UnroutedSkipped ?? 0, units?.TombstonesSkipped ?? 0);
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
        Task encoding = Task.Run(
            () => Parallel.ForEach(toEncode, i =>
            {
                var c = candidates[i];
                if (units.IsUnrouted(c.Outcome))
                {
                    encoded[i] = units.EncodedOf(c.Outcome, c.Shape);
                    return;
                }

                encoded[i] = RowEncoder.Encode(batch, c.Outcome.Source, c.Shape, _options.Tombstones, units.Schemas.GetValueOrDefault(c.Outcome.Partition));
                sample?.Add(encoded[i]!);
            }),
            CancellationToken.None);
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
            }
        }

        return planned;
    }

    private async Task DeliverAllAsync(KafkaBatch batch, PartitionLedger ledger, List<PlannedPartition> planned, EncodedPartition?[] encoded, Retrier retrier)
    {
        // Not cancelled as a whole: every partition ends with an outcome, delivered or failed, whatever the deadline.
        await Parallel.ForEachAsync(
            planned,
            new ParallelOptions { MaxDegreeOfParallelism = _options.InsertParallelism },
            async (p, _) =>
            {
                if (p.Outcome.Failure is not null)
                {
                    return;
                }

                if (retrier.Token.IsCancellationRequested)
                {
                    Fail(p.Outcome, new DeadlineReachedException(p.Outcome));
                    return;
                }

                try
                {
                    var sender = new PartitionSender(_senders, retrier, batch, ledger.Source, encoded[p.Index]!, p.Outcome, p.Plan.NewState.ScopeFor(_options.SinkId, ledger.Source));
                    await sender.SendPlanAsync(p.Plan);
                }
                catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
                {
                    Fail(p.Outcome, Explain(e, p.Outcome));
                }
            });
    }

    private static Exception Explain(Exception e, PartitionOutcome o) => e is OperationCanceledException
        ? new DeadlineReachedException(o)
        : e;

    private void Fail(PartitionOutcome outcome, Exception e)
    {
        outcome.Failure = e;
        _log.Write(
            LogLevel.Error,
            e is ClickHouseException { Kind: ClickHouseErrorKind.Permission or ClickHouseErrorKind.Auth }
                ? $"partition not delivered: ClickHouse refused the sink's user (permission, authentication or configuration; not retried, metric RefusedPartitions): {e.Message}"
                : $"partition not delivered, reported for retry: {e.Message}",
            new LogFields(outcome.Source.Topic, outcome.Source.Partition, outcome.Source.FirstOffset, outcome.Source.LastOffset, outcome.Table.ToString(), (e as ClickHouseException)?.ServerCode),
            e is ClickHouseException ? null : e);
    }
}
