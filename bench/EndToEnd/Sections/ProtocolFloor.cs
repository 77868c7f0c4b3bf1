using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>
/// The exactly-once protocol's floor: what the sink sends to ClickHouse for a batch, sent by a minimal client (one
/// HttpClient, bodies built before the clock starts). The state read (skipped, as the sink skips it, when the
/// <see cref="StateCache"/> of the floor's last write can plan the batch: the steady state), one state write (every
/// partition's plan in one insert), then the inserts as the sink forms them (one insert group per table in the steady state). Every
/// request is built by the sink's own code: <see cref="ClickHouseStateStore"/> (read SQL with
/// select_sequential_consistency, write body, version and settings, the read-back of concurrent plans) over a
/// <see cref="RecordingGateway"/>, <see cref="StateCache"/> and <see cref="Reconciler"/> for the plan and nonce (from the
/// state this floor wrote before, as the sink's plan comes from the state it cached or loads),
/// <see cref="DeduplicationToken"/> and <see cref="InsertSettings"/> for the inserts. Same engine, same rows, same
/// state table as the sink (its own sink_id), into its own copy of the target table.
/// </summary>
internal sealed class ProtocolFloor : IDisposable
{
    /// <summary>What the floor's client sends; the cuts are not what the sink does today.</summary>
    public enum Variant
    {
        /// <summary>The headline: (state read unless the state cache plans the batch), state write, then the inserts.</summary>
        Full,

        /// <summary>Full with the state read even when the cache plans the batch: the protocol before the cache (issue #16's floor).</summary>
        WithStateRead,

        /// <summary>The state write sent together with the inserts instead of before them.</summary>
        WriteOverlapsInserts,

        /// <summary>The full protocol plus a landed-mark state write after the inserts (tables without offset columns).</summary>
        WithLandedWrite,

        /// <summary>
        /// What the sink sends since the read-back of concurrent plans: Full plus that query between the state write and
        /// the inserts, and once more after the inserts (the check that no poller planned on top of this invocation).
        /// </summary>
        WithReadBack,
    }

    private readonly HttpClient _http;
    private readonly SinkOptions _sink;
    private readonly TableShape _shape;
    private readonly RecordingGateway _recorder = new();
    private readonly ClickHouseStateStore _store;
    private readonly Dictionary<PartitionKey, PartitionState> _written = [];
    private readonly StateCache _cache = new(TimeProvider.System);

    /// <param name="sink">The sink's options as the bench's bootstrap gets them, with this floor's own SINK_ID.</param>
    /// <param name="table">The floor's copy of the target table, in the sink's database.</param>
    public ProtocolFloor(EngineClient engine, SinkOptions sink, string table)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(sink);
        _sink = sink;
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(engine.Url.GetLeftPart(UriPartial.Authority)),
            Timeout = TimeSpan.FromMinutes(2),
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{engine.User}:{engine.Password}")));

        // The bench's table has every metadata column (the sink learns the same shape from system.columns).
        _shape = new TableShape(new TableName(sink.Database, table), (MetadataColumns)127, ValueFormat.Json, sink.StringColumn);
        _store = new ClickHouseStateStore(_recorder, sink.StateTable, sink.SinkId, TimeProvider.System);
    }

    /// <summary>The sink's options for a floor in <paramref name="db"/>: the bootstrap's environment with its own SINK_ID.</summary>
    public static SinkOptions OptionsFor(BenchContext context, string db, string sinkId)
    {
        ArgumentNullException.ThrowIfNull(context);
        var env = context.Env(context.Engine.Url, db, "none");
        env["SINK_ID"] = sinkId;
        return SinkOptionsParser.Parse(env);
    }

    /// <summary>One batch's requests, built ahead: nothing of this is timed.</summary>
    /// <param name="Cached">The sink's state cache plans this batch: the protocol sends no state read.</param>
    internal sealed record Prepared(GatewayCall StateRead, GatewayCall StateWrite, GatewayCall ReadBack, GatewayCall LandedWrite, List<(GatewayCall Call, int Rows)> Inserts, bool Cached);

    /// <summary>
    /// Decodes and encodes the event as the sink does (same RowEncoder) and builds every request through the sink's
    /// builders. Batches must be run in the order they were prepared, each once (the next plan follows this state).
    /// </summary>
    public async Task<Prepared> PrepareAsync(byte[] mskEvent, CancellationToken ct)
    {
        using var batch = KafkaEventDecoder.Decode(mskEvent);
        var source = SourceIdentity.Of(batch);
        var keys = batch.Partitions.Select(p => new PartitionKey(p.Topic, p.Partition)).ToList();
        _recorder.Take();

        // As the sink: the cache of the last write plans a batch that starts after it; the read is recorded regardless
        // (a cold batch, and the WithStateRead variant, send it).
        var cached = _cache.Take(source, batch.Partitions.Select(p => (new PartitionKey(p.Topic, p.Partition), p.FirstOffset)).ToList());
        await _store.LoadAsync(source, keys, ct);
        var read = _recorder.Take().Single();

        var plans = new List<(PartitionPlan Plan, long LoadedVersion)>();
        var inserts = new List<(GatewayCall, int)>();
        var bodies = new List<(byte[] Body, int Rows)>();
        foreach (var p in batch.Partitions)
        {
            var key = new PartitionKey(p.Topic, p.Partition);
            var recorded = cached is not null ? cached.Snapshot.States[key] : _written.GetValueOrDefault(key);
            var range = new OffsetRange(p.FirstOffset, p.LastOffset);
            var plan = Reconciler.Plan(key, recorded, range, p.Records[0].TimestampMs, _shape.HasOffsetColumns, _sink.StrictOffsets);
            if (plan.Sends.Count != 1 || plan.Sends[0].Kind is not (SendKind.Fresh or SendKind.Rewound))
            {
                // The floor measures new ranges only: a batch must not overlap what this floor sent before.
                throw new InvalidOperationException($"protocol floor: batch {p.Topic}/{p.Partition} {range} overlaps a batch sent before ({string.Join(", ", plan.Sends.Select(s => s.Kind))})");
            }

            using var encoded = RowEncoder.Encode(batch, p, _shape, _sink.Tombstones);
            plan = plan with { NewState = RangeCount.Stamp(plan.NewState, p, _sink.Tombstones) }; // as the sink: the audit's counts ride in the plan write
            plan = plan with { NewState = WindowGuard.Stamp(plan.NewState, new WindowMark(0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())) }; // and the window marks
            plans.Add((plan, recorded?.Version ?? 0));
            bodies.Add((encoded.Buffer.ToArray(), encoded.RowCount));
        }

        // As the sink: the partitions' new ranges into one table go out as one insert (an insert group) once each has
        // a recorded range before it; a partition seen for the first time goes alone.
        var grouped = InsertGroups.Assign(plans.Select(p => new GroupCandidate(_shape.Table.ToString(), p.Plan, Eligible: true)).ToList());
        plans = [.. plans.Select((p, i) => (grouped[i], p.LoadedVersion))];
        var sql = $"INSERT INTO {_shape.Table.Sql} FORMAT JSONEachRow";
        if (grouped.Count > 1 && grouped[0].Sends[0].Group != 0)
        {
            var token = DeduplicationToken.ForGroup(grouped[0].NewState.ScopeFor(_sink.SinkId, source), _shape.Table.ToString(), grouped[0].Sends[0].Group);
            var body = bodies.SelectMany(b => b.Body).ToArray();
            inserts.Add((new GatewayCall(sql, body, InsertSettings.For(_sink.ExtraInsertSettings, token, body.Length)), bodies.Sum(b => b.Rows)));
        }
        else
        {
            for (var i = 0; i < grouped.Count; i++)
            {
                var (p, send) = (batch.Partitions[i], grouped[i].Sends[0]);
                var token = DeduplicationToken.ForData(grouped[i].NewState.ScopeFor(_sink.SinkId, source), p.Topic, p.Partition, send.TokenRange, send.Generation, 0);
                inserts.Add((new GatewayCall(sql, bodies[i].Body, InsertSettings.For(_sink.ExtraInsertSettings, token, bodies[i].Body.Length)), bodies[i].Rows));
            }
        }

        var version = _store.NewVersion(cached?.Version ?? 0);
        await _store.SaveAsync(source, plans.Select(p => new StateWrite(p.Plan.NewState, p.LoadedVersion)).ToList(), version, ct);
        var write = _recorder.Take().Single();
        await _store.ConcurrentPlansAsync(source, plans.Select(p => (p.Plan.NewState, p.LoadedVersion)).ToList(), version, cached is not null, ct);
        var readBack = _recorder.Take().Single();
        await _store.SaveAsync(source, batch.Partitions.Select((p, i) => new StateWrite(Reconciler.Landed(plans[i].Plan, new OffsetRange(p.FirstOffset, p.LastOffset)), version)).ToList(), _store.NewVersion(), ct);
        var landed = _recorder.Take().Single();
        foreach (var (plan, _) in plans)
        {
            _written[plan.NewState.Key] = plan.NewState with { Version = version };
        }

        // The bench's table has offset columns: the plan is the last write, as the sink caches it after a clean invocation.
        _cache.Remember(source, plans.Select(p => p.Plan.NewState).ToList(), version);
        return new Prepared(read, write, readBack, landed, inserts, cached is not null);
    }

    /// <summary>Runs the protocol for one prepared batch; returns the wall time in ms.</summary>
    public async Task<double> RunAsync(Prepared batch, CancellationToken ct, Variant variant = Variant.Full)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var w = Stopwatch.StartNew();
        if (!batch.Cached || variant == Variant.WithStateRead)
        {
            await SendAsync(batch.StateRead, ct);
        }

        if (variant == Variant.WriteOverlapsInserts)
        {
            await Task.WhenAll(SendAsync(batch.StateWrite, ct), InsertAllAsync(batch, ct));
        }
        else
        {
            await SendAsync(batch.StateWrite, ct);
            if (variant == Variant.WithReadBack)
            {
                await SendAsync(batch.ReadBack, ct);
            }

            await InsertAllAsync(batch, ct);
            if (variant == Variant.WithReadBack)
            {
                await SendAsync(batch.ReadBack, ct);
            }
        }

        if (variant == Variant.WithLandedWrite)
        {
            await SendAsync(batch.LandedWrite, ct);
        }

        return w.Elapsed.TotalMilliseconds;
    }

    private Task InsertAllAsync(Prepared batch, CancellationToken ct) =>
        Parallel.ForEachAsync(batch.Inserts, new ParallelOptions { MaxDegreeOfParallelism = _sink.InsertParallelism, CancellationToken = ct }, async (insert, c) => await SendAsync(insert.Call, c));

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// As ClickHouse.Driver sends them: a query or statement as the POST body, an insert with its SQL in the URL and
    /// the rows as the body; settings and the database as URL parameters.
    /// </summary>
    private async Task SendAsync(GatewayCall call, CancellationToken ct)
    {
        var q = new StringBuilder("/?database=").Append(Uri.EscapeDataString(_sink.Database));
        if (call.IsInsert)
        {
            q.Append("&query=").Append(Uri.EscapeDataString(call.Sql));
        }

        foreach (var (k, v) in call.Settings)
        {
            q.Append('&').Append(k).Append('=').Append(Uri.EscapeDataString(v));
        }

        using var content = new ByteArrayContent(call.Body ?? Encoding.UTF8.GetBytes(call.Sql));
        using var response = await _http.PostAsync(new Uri(q.ToString(), UriKind.Relative), content, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"protocol floor: ClickHouse answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body).Trim()}");
        }
    }
}
