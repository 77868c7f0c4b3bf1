using System.Diagnostics;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;
using MskClickHouse.Core.Routing;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Hosting;

/// <summary>
/// One invocation: decode, route, encode, reconcile with the recorded state, record the new state, insert every
/// partition (in parallel), dead-letter what cannot be inserted, and answer with the partitions that must be retried.
/// </summary>
public sealed partial class SinkHandler : IInvocationHandler
{
    private readonly SinkOptions _options;
    private readonly TopicRouter _router;
    private readonly TableCatalog _catalog;
    private readonly IStateStore _state;
    private readonly StateCache _cache;
    private readonly PartitionDelivery _delivery;
    private readonly DetachedDeadLetters _detached;
    private readonly Retrier _retrier;
    private readonly ISinkLog _log;
    private readonly IMetricsSink _metrics;
    private readonly TimeProvider _time;
    private readonly HashSet<TableName> _warnedTables = [];
    private readonly Formats.Registry.SchemaCache? _schemas;
    private readonly Drift.UnknownFieldsReporter? _unknownFields;

    public SinkHandler(SinkOptions options, IClickHouseGateway gateway, TableCatalog catalog, IStateStore state, ISinkLog log, IMetricsSink metrics, TimeProvider time, Func<double> random, Formats.Registry.SchemaCache? schemas = null)
    {
        _schemas = schemas;
        _options = options;
        _router = new TopicRouter(options);
        _catalog = catalog;
        _state = state;
        _cache = new StateCache(time);
        _log = log;
        _metrics = metrics;
        _time = time;
        _retrier = new Retrier(RetryPolicy.Default, time, random);
        _delivery = new PartitionDelivery(gateway, _retrier, options, log, time);
        _detached = new DetachedDeadLetters(gateway, _retrier, options, time);
        _unknownFields = options.UnknownFieldsSample > 0
            ? new Drift.UnknownFieldsReporter(options.UnknownFieldsSample, gateway, Drift.UnknownFieldsReporter.ImportsNestedJson(options.ExtraInsertSettings), log, metrics, time)
            : null;
    }

    public async Task<byte[]> HandleAsync(InvocationContext context, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = Stopwatch.GetTimestamp();
        using var batch = KafkaEventDecoder.Decode(payload.Span);
        var now = _time.GetUtcNow();
        var giveUpAt = GiveUpAt(context.Deadline, now, _options.DeadlineSafetyMargin);
        var source = SourceIdentity.Of(batch);

        var routes = batch.Partitions.Select(p => (Partition: p, Route: _router.Route(p.Topic))).ToList();
        // Unidentified records and unrouted partitions first, outside the protocol: if they cannot be written the
        // invocation fails as a whole before anything else was done, and is retried.
        var settled = await WriteDetachedAsync(batch, source, routes, giveUpAt, cancellationToken);
        var outcomes = routes.Where(r => r.Route.Kind != RouteKind.Unrouted).Select(r => new PartitionOutcome(r.Partition, r.Route.Table)).ToList();
        foreach (var (o, r) in outcomes.Zip(routes.Where(r => r.Route.Kind != RouteKind.Unrouted)).Where(x => x.Second.Route.Kind == RouteKind.Refused))
        {
            Fail(o, new RouteRefusedException(r.Route.Reason!));
        }

        var encoded = new List<EncodedPartition>();
        var sample = _unknownFields?.NewSample(); // null when UNKNOWN_FIELDS_SAMPLE=0: no per-record work at all

        // Every request of the invocation ends by giveUpAt, whatever CLICKHOUSE request timeout is configured: a request
        // still in flight then is abandoned and its partition answered as a failure, so the function always answers.
        using var deadline = new CancellationTokenSource(Positive(giveUpAt - now), _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        List<Work> work = [];
        // Taken out for this invocation, put back only if it ends cleanly: a failed or crashed one leaves none behind.
        var cached = _cache.Take(source, outcomes.Select(o => (new PartitionKey(o.Source.Topic, o.Source.Partition), o.Source.FirstOffset)).ToList());
        (IReadOnlyCollection<PartitionState> States, long Version)? lastWrite = null;
        try
        {
            work = await PrepareAsync(batch, source, outcomes, encoded, cached, sample, giveUpAt, linked.Token);
            await DeliverAllAsync(batch, source, work, giveUpAt, linked.Token);
        }
        catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
        {
            // The state could not be read or recorded in time: nothing was inserted for the partitions not yet failed.
            foreach (var o in outcomes.Where(o => o.Failure is null))
            {
                Fail(o, Explain(e, o));
            }

            work = [];
        }
        finally
        {
            if (work.Count == 0)
            {
                Dispose(encoded);
            }
        }

        try
        {
            // The check after the inserts and the landed marks may use the time between giveUpAt and half-way to the
            // deadline: they decide and record what did land.
            var markBy = giveUpAt + ((context.Deadline - giveUpAt) / 2);
            using var marking = new CancellationTokenSource(Positive(markBy - _time.GetUtcNow()), _time);
            using var markLinked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, marking.Token);
            // The check after the inserts too: a partition delivered just before giveUpAt still gets its answer.
            await CheckNotOvertakenAsync(source, work, markBy, markLinked.Token);
            var landed = await RecordLandedAsync(source, work, markBy, markLinked.Token);
            if (work.Count > 0 && work.Count == outcomes.Count && outcomes.All(o => o.Failure is null) && work.All(w => w.Recorded))
            {
                // Ended cleanly: every partition delivered and checked, and every state write of it acknowledged. The
                // last write is the plan when no partition needed a landed mark, else the mark if it covered every
                // partition and was acknowledged (a mark of some partitions only, or of unknown outcome: nothing cached).
                lastWrite = work.All(w => w.Encoded.Shape.HasOffsetColumns)
                    ? (work.Select(w => w.Plan.NewState).ToList(), work[0].SavedVersion)
                    : landed is { } l && l.States.Count == work.Count ? l : null;
            }
        }
        finally
        {
            Dispose(encoded);
        }

        if (lastWrite is { } write)
        {
            _cache.Remember(source, write.States, write.Version);
        }

        var answer = Finish(context, batch, [.. outcomes, .. settled], Stopwatch.GetElapsedTime(started));
        if (sample is not null && _unknownFields is not null)
        {
            // Informational, after the answer is decided: bounded to three quarters of the time after giveUpAt.
            using var reporting = new CancellationTokenSource(Positive(giveUpAt + ((context.Deadline - giveUpAt) * 3 / 4) - _time.GetUtcNow()), _time);
            using var reportLinked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, reporting.Token);
            await _unknownFields.ReportAsync(sample, reportLinked.Token);
        }

        return answer;
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

    private static TimeSpan Positive(TimeSpan t) => t > TimeSpan.Zero ? t : TimeSpan.Zero;

    private static void Dispose(List<EncodedPartition> encoded)
    {
        foreach (var e in encoded)
        {
            e.Dispose();
        }

        encoded.Clear();
    }

    private static Exception Explain(Exception e, PartitionOutcome o) => e is OperationCanceledException
        ? new DeadlineReachedException(o)
        : e;

    private async Task DeliverAllAsync(KafkaBatch batch, SourceIdentity source, List<Work> work, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        // Not cancelled as a whole: every partition ends with an outcome, delivered or failed, whatever the deadline.
        await Parallel.ForEachAsync(
            work,
            new ParallelOptions { MaxDegreeOfParallelism = _options.InsertParallelism },
            async (w, _) =>
            {
                if (w.Outcome.Failure is not null)
                {
                    return;
                }

                if (ct.IsCancellationRequested)
                {
                    Fail(w.Outcome, new DeadlineReachedException(w.Outcome));
                    return;
                }

                try
                {
                    await _delivery.DeliverAsync(batch, source, w.Encoded, w.Plan, w.Outcome, giveUpAt, ct);
                }
                catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
                {
                    Fail(w.Outcome, Explain(e, w.Outcome));
                }
            });
    }

    private async Task<List<Work>> PrepareAsync(KafkaBatch batch, SourceIdentity source, List<PartitionOutcome> outcomes, List<EncodedPartition> encodedAll, CachedStates? cached, Drift.FieldSample? sample, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        var tables = new Dictionary<TableName, TableInfo?>();
        foreach (var table in outcomes.Where(o => o.Failure is null).Select(o => o.Table).Distinct())
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

        // The state query is in flight while the partitions are encoded (CPU, in parallel across partitions). A batch
        // the state this process wrote last can plan alone sends none (the cache holds every partition of the batch).
        var keys = ready.Select(r => new PartitionKey(r.Outcome.Source.Topic, r.Outcome.Source.Partition)).ToList();
        if (cached is not null)
        {
            _log.Write(LogLevel.Debug, "state planned from this environment's last write (in-process state cache): no state read", new LogFields(Numbers: [new("partitions", keys.Count)]));
        }

        var loading = cached is not null
            ? Task.FromResult(cached.Snapshot)
            : _retrier.RunAsync(c => _state.LoadAsync(source, keys, c), giveUpAt, null, ct);
        var resolved = await Formats.SchemaResolution.ResolveAllAsync(_schemas, batch, ready, r => r.Outcome.Source, r => r.Shape, (r, e) => Fail(r.Outcome, e), giveUpAt, _time, ct);
        ready.RemoveAll(r => r.Outcome.Failure is not null);

        // Planning needs the offsets and the table shapes, not the rows: the partitions are encoded while the state is
        // read, recorded and read back (the same requests in the same order; no insert starts before all three).
        var rows = new EncodedPartition[ready.Count];
        Task encoding = Task.Run(
            () => Parallel.For(0, ready.Count, i =>
            {
                rows[i] = RowEncoder.Encode(batch, ready[i].Outcome.Source, ready[i].Shape, _options.Tombstones, resolved.GetValueOrDefault(ready[i].Outcome.Source));
                sample?.Add(rows[i]);
            }),
            CancellationToken.None);
        List<Planned> planned;
        long version;
        PlanReadBack readBack;
        try
        {
            planned = PlanAll(source, await loading, ready);
            if (planned.Count == 0)
            {
                return [];
            }

            (version, readBack) = await RecordAsync(source, planned, cached, giveUpAt, ct);
            if (cached is not null && (readBack.Conflicts.Count > 0 || readBack.NotApplied.Count > 0))
            {
                // The cache was stale: another invocation (another execution environment, or a poller at the same time)
                // recorded a plan for these partitions since this process's last write, or the state changed under it.
                // Nothing was inserted; our write lost to theirs (fenced, and versioned just above the cached one). Record
                // their plans again where ours was kept, as every step-back does, then plan from a state read, exactly as
                // without the cache.
                await RecordTheirsAsync(source, readBack, version, giveUpAt, ct);
                _log.Write(LogLevel.Information, "state cache stale: another invocation recorded these partitions since this environment's last write; re-planned from the state table", new LogFields(Numbers: [new("partitions", readBack.Conflicts.Count + readBack.NotApplied.Count)]));
                planned = PlanAll(source, await _retrier.RunAsync(c => _state.LoadAsync(source, keys, c), giveUpAt, null, ct), ready);
                if (planned.Count == 0)
                {
                    return [];
                }

                (version, readBack) = await RecordAsync(source, planned, null, giveUpAt, ct);
            }
        }
        finally
        {
            // Never leave with the encoder still writing: the caller disposes what was encoded.
            await encoding.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            encodedAll.AddRange(rows.Where(r => r is not null));
        }

        await encoding;
        foreach (var (r, i) in ready.Select((r, i) => (r, i)))
        {
            r.Outcome.TombstonesSkipped = rows[i].TombstonesSkipped;
        }

        var work = planned
            .Select(p => new Work(ready[p.Index].Outcome, rows[p.Index], p.Plan, p.LoadedVersion) { SavedVersion = version, Recorded = readBack.Recorded.Contains(p.Plan.NewState.Key) })
            .ToList();
        if (readBack.Conflicts.Count > 0 || readBack.NotApplied.Count > 0)
        {
            await RecordTheirsAsync(source, readBack, version, giveUpAt, ct);
            foreach (var w in work)
            {
                var key = w.Plan.NewState.Key;
                if (readBack.Conflicts.ContainsKey(key))
                {
                    Fail(w.Outcome, new ConcurrentBatchException(w.Outcome));
                }
                else if (readBack.NotApplied.Contains(key))
                {
                    Fail(w.Outcome, new StateChangedException(w.Outcome));
                }
            }

            work = work.Where(w => w.Outcome.Failure is null).ToList();
        }

        return work;
    }

    /// <summary>
    /// Dead-letters the records no partition can hold (unidentified) and the partitions with no route, in one insert;
    /// returns the unrouted partitions' outcomes (settled: dead-lettered, never retried).
    /// </summary>
    private async Task<List<PartitionOutcome>> WriteDetachedAsync(KafkaBatch batch, SourceIdentity source, List<(PartitionRecords Partition, Route Route)> routes, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        var unrouted = routes.Where(r => r.Route.Kind == RouteKind.Unrouted).Select(r => new DetachedDeadLetters.Unrouted(r.Partition, r.Route.Table, r.Route.Reason!)).ToList();
        await _detached.WriteAsync(batch, source, unrouted, giveUpAt, ct);
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
            DeadLettered = outcomes.Sum(o => o.DeadLettered) + batch.Unidentified.Count,
            Replayed = outcomes.Sum(o => o.Replayed),
            PossibleDuplicates = outcomes.Sum(o => o.PossibleDuplicates),
            TombstonesSkipped = outcomes.Sum(o => o.TombstonesSkipped),
            InsertLatencyMs = inserts == 0 ? 0 : outcomes.Sum(o => o.InsertMilliseconds) / inserts,
            BatchBytes = batch.PayloadBytes,
            RecordLagMs = batch.OldestTimestampMs is { } oldest ? (_time.GetUtcNow().ToUnixTimeMilliseconds() - oldest) : null,
            FailedPartitions = failed.Count,
            NonDeduplicatingTables = outcomes.Where(o => o.TableDeduplicates == false).Select(o => o.Table).Distinct().Count(),
            RefusedPartitions = failed.Count(o => o.Failure is ClickHouseException { Kind: ClickHouseErrorKind.Permission or ClickHouseErrorKind.Auth }),
            UnidentifiedRecords = batch.Unidentified.Count,
            RefusedRoutes = failed.Count(o => o.Failure is RouteRefusedException),
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

    private sealed record Work(PartitionOutcome Outcome, EncodedPartition Encoded, PartitionPlan Plan, long LoadedVersion)
    {
        /// <summary>The version this invocation's plan was recorded with.</summary>
        public long SavedVersion { get; set; }

        /// <summary>
        /// The fence kept this invocation's plan write. When it did not, another invocation recorded the same plan since
        /// the load (an identical batch at once): the inserts use the same tokens, but this version names nothing.
        /// </summary>
        public bool Recorded { get; init; }
    }
}
