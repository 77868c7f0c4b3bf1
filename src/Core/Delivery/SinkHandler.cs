using System.Diagnostics;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Decoding;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
using MskClickHouse.Core.Routing;
using MskClickHouse.Core.Runtime;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// One invocation: decode, route, encode, reconcile with the recorded state, record the new state, insert every
/// partition (in parallel), dead-letter what cannot be inserted, and answer with the partitions that must be retried.
/// </summary>
public sealed class SinkHandler : IInvocationHandler
{
    private readonly SinkOptions _options;
    private readonly TopicRouter _router;
    private readonly TableCatalog _catalog;
    private readonly IStateStore _state;
    private readonly PartitionDelivery _delivery;
    private readonly Retrier _retrier;
    private readonly ISinkLog _log;
    private readonly IMetricsSink _metrics;
    private readonly TimeProvider _time;
    private readonly HashSet<TableName> _warnedTables = [];
    private readonly Formats.Registry.SchemaCache? _schemas;

    public SinkHandler(SinkOptions options, IClickHouseGateway gateway, TableCatalog catalog, IStateStore state, ISinkLog log, IMetricsSink metrics, TimeProvider time, Func<double> random, Formats.Registry.SchemaCache? schemas = null)
    {
        _schemas = schemas;
        _options = options;
        _router = new TopicRouter(options);
        _catalog = catalog;
        _state = state;
        _log = log;
        _metrics = metrics;
        _time = time;
        _retrier = new Retrier(RetryPolicy.Default, time, random);
        _delivery = new PartitionDelivery(gateway, _retrier, options, log, time);
    }

    public async Task<byte[]> HandleAsync(InvocationContext context, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = Stopwatch.GetTimestamp();
        using var batch = KafkaEventDecoder.Decode(payload.Span);
        var giveUpAt = GiveUpAt(context.Deadline, _time.GetUtcNow(), _options.DeadlineSafetyMargin);

        var outcomes = batch.Partitions.Select(p => new PartitionOutcome(p, _router.TableOf(p.Topic))).ToList();
        var encoded = new List<EncodedPartition>();
        try
        {
            var work = await PrepareAsync(batch, outcomes, encoded, giveUpAt, cancellationToken);
            await DeliverAllAsync(batch, work, giveUpAt, cancellationToken);
            await RecordLandedAsync(work, giveUpAt, cancellationToken);
        }
        finally
        {
            foreach (var e in encoded)
            {
                e.Dispose();
            }
        }

        return Finish(context, batch, outcomes, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// When retries stop: the configured margin before the deadline, but never more than a quarter of the time left,
    /// so a function with a short timeout still retries a transient failure.
    /// </summary>
    internal static DateTimeOffset GiveUpAt(DateTimeOffset deadline, DateTimeOffset now, TimeSpan margin)
    {
        var quarter = (deadline - now) / 4;
        return deadline - (quarter < margin ? (quarter > TimeSpan.Zero ? quarter : TimeSpan.Zero) : margin);
    }

    private Task DeliverAllAsync(KafkaBatch batch, List<Work> work, DateTimeOffset giveUpAt, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(
            work,
            new ParallelOptions { MaxDegreeOfParallelism = _options.InsertParallelism, CancellationToken = cancellationToken },
            async (w, ct) =>
            {
                try
                {
                    await _delivery.DeliverAsync(batch, w.Encoded, w.Plan, w.Outcome, giveUpAt, ct);
                }
                catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
                {
                    Fail(w.Outcome, e);
                }
            });

    private async Task<List<Work>> PrepareAsync(KafkaBatch batch, List<PartitionOutcome> outcomes, List<EncodedPartition> encodedAll, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        var tables = new Dictionary<TableName, TableInfo?>();
        foreach (var table in outcomes.Select(o => o.Table).Distinct())
        {
            try
            {
                tables[table] = await _retrier.RunAsync(c => _catalog.GetAsync(table, c), giveUpAt, null, ct);
            }
            catch (ClickHouseException e)
            {
                tables[table] = null;
                foreach (var o in outcomes.Where(o => o.Table == table))
                {
                    Fail(o, e);
                }
            }
        }

        var ready = new List<(PartitionOutcome Outcome, TableShape Shape)>();
        foreach (var o in outcomes.Where(o => o.Failure is null))
        {
            var info = tables[o.Table]!;
            if (!info.Exists)
            {
                _catalog.Forget(o.Table);
                Fail(o, new ClickHouseException(
                    $"table {o.Table} does not exist: create it (docs/configuration.md shows a schema) or route topic '{o.Source.Topic}' elsewhere with TOPIC_TABLES",
                    ClickHouseErrorKind.MissingTable,
                    serverCode: 60));
                continue;
            }

            WarnIfCannotDeduplicate(info, outcomes.Count(x => x.Table == o.Table));
            o.TableDeduplicates = info.CanDeduplicate;
            ready.Add((o, _router.ShapeFor(o.Source.Topic, info.Columns)));
        }

        if (ready.Count == 0)
        {
            return [];
        }

        // The state query is in flight while the partitions are encoded (CPU, in parallel across partitions).
        var keys = ready.Select(r => new PartitionKey(r.Outcome.Source.Topic, r.Outcome.Source.Partition)).ToList();
        var loading = _retrier.RunAsync(c => _state.LoadAsync(keys, c), giveUpAt, null, ct);
        var resolved = await Formats.SchemaResolution.ResolveAllAsync(_schemas, batch, ready, r => r.Outcome.Source, r => r.Shape, (r, e) => Fail(r.Outcome, e), giveUpAt, _time, ct);
        ready.RemoveAll(r => r.Outcome.Failure is not null);
        var rows = new EncodedPartition[ready.Count];
        Parallel.For(0, ready.Count, i => rows[i] = RowEncoder.Encode(batch, ready[i].Outcome.Source, ready[i].Shape, _options.Tombstones, resolved.GetValueOrDefault(ready[i].Outcome.Source)));
        encodedAll.AddRange(rows);
        var prepared = ready.Select((r, i) => (r.Outcome, Encoded: rows[i])).ToList();
        foreach (var (o, e) in prepared)
        {
            o.TombstonesSkipped = e.TombstonesSkipped;
        }

        var recorded = await loading;
        var work = new List<Work>(prepared.Count);
        foreach (var (o, encoded) in prepared)
        {
            var key = new PartitionKey(o.Source.Topic, o.Source.Partition);
            try
            {
                var plan = Reconciler.Plan(
                    key,
                    recorded.GetValueOrDefault(key),
                    new OffsetRange(o.Source.FirstOffset, o.Source.LastOffset),
                    encoded.Shape.HasOffsetColumns,
                    _options.StrictOffsets);
                work.Add(new Work(o, encoded, plan));
            }
            catch (OffsetsRewoundException e)
            {
                Fail(o, e);
            }
        }

        // State before insert: one small insert for every partition of this invocation.
        var states = work.Select(w => w.Plan.NewState).ToList();
        await _retrier.RunAsync(async c => { await _state.SaveAsync(states, c); return true; }, giveUpAt, null, ct);
        return work;
    }

    /// <summary>
    /// For tables without offset columns, records after the inserts that the delivered ranges landed, so a redelivered
    /// subset of them (a lost commit followed by a smaller batch) sends nothing instead of a possibly duplicated tail.
    /// Tables with offset columns do not need it: ClickHouse answers which offsets are present.
    /// </summary>
    private async Task RecordLandedAsync(List<Work> work, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        var landed = work
            .Where(w => w.Outcome.Failure is null && !w.Encoded.Shape.HasOffsetColumns)
            .Select(w => Reconciler.Landed(w.Plan, new OffsetRange(w.Outcome.Source.FirstOffset, w.Outcome.Source.LastOffset)))
            .ToList();
        if (landed.Count == 0)
        {
            return;
        }

        try
        {
            await _retrier.RunAsync(async c => { await _state.SaveAsync(landed, c); return true; }, giveUpAt, null, ct);
        }
        catch (ClickHouseException e)
        {
            // Nothing is lost: without the mark a later subset is handled as "outcome unknown" (bounded, reported).
            _log.Write(LogLevel.Warning, $"could not record the landed ranges after the inserts: {e.Message}", new LogFields(ErrorCode: e.ServerCode));
        }
    }

    private void WarnIfCannotDeduplicate(TableInfo info, int partitions)
    {
        if (DeduplicationWindowCheck.Assess(info, partitions) is not { } warning)
        {
            return;
        }

        lock (_warnedTables)
        {
            if (!_warnedTables.Add(info.Table))
            {
                return;
            }
        }

        _log.Write(LogLevel.Warning, warning, new LogFields(Table: info.Table.ToString()));
    }

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

    private byte[] Finish(InvocationContext context, KafkaBatch batch, List<PartitionOutcome> outcomes, TimeSpan elapsed)
    {
        var failed = outcomes.Where(o => o.Failure is not null).ToList();
        var inserts = outcomes.Sum(o => o.Inserts);
        var metrics = new InvocationMetrics
        {
            RecordsReceived = batch.ReceivedRecordCount,
            RowsInserted = outcomes.Sum(o => o.RowsInserted),
            DeadLettered = outcomes.Sum(o => o.DeadLettered),
            Replayed = outcomes.Sum(o => o.Replayed),
            PossibleDuplicates = outcomes.Sum(o => o.PossibleDuplicates),
            TombstonesSkipped = outcomes.Sum(o => o.TombstonesSkipped),
            InsertLatencyMs = inserts == 0 ? 0 : outcomes.Sum(o => o.InsertMilliseconds) / inserts,
            BatchBytes = batch.PayloadBytes,
            RecordLagMs = batch.OldestTimestampMs is { } oldest ? (_time.GetUtcNow().ToUnixTimeMilliseconds() - oldest) : null,
            FailedPartitions = failed.Count,
            NonDeduplicatingTables = outcomes.Where(o => o.TableDeduplicates == false).Select(o => o.Table).Distinct().Count(),
            RefusedPartitions = failed.Count(o => o.Failure is ClickHouseException { Kind: ClickHouseErrorKind.Permission or ClickHouseErrorKind.Auth }),
        };
        _metrics.Publish(metrics);

        var perTable = outcomes.GroupBy(o => o.Table.ToString()).Select(g => new KeyValuePair<string, long>("rows." + g.Key, g.Sum(o => o.RowsInserted))).ToList();
        perTable.Add(new("records_in", metrics.RecordsReceived));
        perTable.Add(new("dead_lettered", metrics.DeadLettered));
        perTable.Add(new("replayed", metrics.Replayed));
        perTable.Add(new("possible_duplicates", metrics.PossibleDuplicates));
        perTable.Add(new("tombstones_skipped", metrics.TombstonesSkipped));
        perTable.Add(new("failed_partitions", failed.Count));
        perTable.Add(new("milliseconds", (long)elapsed.TotalMilliseconds));
        _log.Write(
            failed.Count == 0 ? LogLevel.Information : LogLevel.Warning,
            "invocation summary",
            new LogFields(Numbers: perTable, Strings: [new("request_id", context.RequestId)]));

        return InvocationAnswer.For(
            _options.PollerMode,
            failed.Select(o => new UndeliveredPartition(o.Source.Topic, o.Source.Partition, o.Source.MapKey, o.Source.FirstOffset, o.Source.LastOffset)).ToList());
    }

    private sealed record Work(PartitionOutcome Outcome, EncodedPartition Encoded, PartitionPlan Plan);
}
