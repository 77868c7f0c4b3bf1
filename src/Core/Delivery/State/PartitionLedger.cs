using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Delivery.State;

/// <summary>A partition the ledger may plan: its outcome (a failed one is skipped) and the shape of its table.</summary>
public sealed record PlanCandidate(PartitionOutcome Outcome, TableShape Shape);

/// <summary>A partition whose plan was recorded: what to send (<see cref="Plan"/>) and what the confirmation needs.</summary>
/// <param name="Index">The partition's index in the candidates given to <see cref="PartitionLedger.PlanAsync"/>.</param>
/// <param name="LoadedVersion">The version of the state the plan was made from.</param>
public sealed record PlannedPartition(int Index, PartitionOutcome Outcome, TableShape Shape, PartitionPlan Plan, long LoadedVersion)
{
    /// <summary>
    /// The insert group the partition's new range goes out in now (<see cref="InsertGroups"/>); 0 when it is sent on its
    /// own. A redelivered member's fill also names its group (round 0 of its token), but is sent alone.
    /// </summary>
    public ulong Group => Plan.Sends is [{ Kind: SendKind.Fresh, Group: var g }] ? g : 0;

    /// <summary>The version this invocation's plan was recorded with.</summary>
    public long SavedVersion { get; set; }

    /// <summary>
    /// The fence kept this invocation's plan write. When it did not, another invocation recorded the same plan since
    /// the load (an identical batch at once): the inserts use the same tokens, but this version names nothing.
    /// </summary>
    public bool Recorded { get; set; }
}

/// <summary>
/// The exactly-once protocol's state side for one invocation (docs/exactly-once.md). <see cref="PlanAsync"/>: load the
/// recorded states (or use this process's cache of its last write), plan every partition, record the plans in one
/// fenced write, read back what others recorded, step back from conflicts, and re-plan from a read when the cache was
/// stale. <see cref="ConfirmAsync"/>, after the inserts: the check that no poller planned on top of ours, the landed
/// marks, and the cache update when the invocation ended cleanly. Partitions that must not be sent are failed through
/// the handler's <c>fail</c>.
/// </summary>
public sealed class PartitionLedger
{
    private readonly IStateStore _store;
    private readonly StateCache _cache;
    private readonly SinkOptions _options;
    private readonly ISinkLog _log;
    private readonly Retrier _retrier;
    private readonly TimeProvider _time;

    /// <summary>The cluster the batch came from.</summary>
    public SourceIdentity Source { get; }

    private readonly Action<PartitionOutcome, Exception> _fail;

    /// <summary>Taken out of the cache for this invocation, put back only if it ends cleanly: a failed or crashed one leaves none behind.</summary>
    private readonly CachedStates? _cached;

    /// <param name="units">Every unit (partition, table) of the batch: the cache plans the batch only if it holds them all.</param>
    /// <param name="time">The clock of the window marks (<see cref="WindowGuard"/>).</param>
    public PartitionLedger(IStateStore store, StateCache cache, SinkOptions options, ISinkLog log, Retrier retrier, KafkaBatch batch, IReadOnlyCollection<PartitionOutcome> units, Action<PartitionOutcome, Exception> fail, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        ArgumentNullException.ThrowIfNull(units);
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(batch);
        _store = store;
        _cache = cache;
        _options = options;
        _log = log;
        _retrier = retrier;
        _fail = fail;
        Source = SourceIdentity.Of(batch);
        _cached = cache.Take(Source, units.Select(u => (KeyOf(u), u.Source.FirstOffset)).ToList());
    }

    /// <summary>
    /// The state key of a unit: its state name (the topic's own for its home table, <c>topic@db.table</c> for another
    /// table of ROUTES: docs/exactly-once.md, "Routing") and the partition.
    /// </summary>
    public static PartitionKey KeyOf(PartitionOutcome unit)
    {
        ArgumentNullException.ThrowIfNull(unit);
        return new PartitionKey(unit.StateTopic, unit.Source.Partition);
    }

    /// <summary>
    /// Plans and records every candidate not failed yet; returns those whose plan was recorded and may be sent. Throws
    /// a <see cref="Errors.SinkException"/> or <see cref="OperationCanceledException"/> when the state could not be read
    /// or recorded in time (nothing may be sent then).
    /// </summary>
    public async Task<List<PlannedPartition>> PlanAsync(IReadOnlyList<PlanCandidate> candidates)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        var keys = candidates.Select(c => KeyOf(c.Outcome)).ToList();
        if (_cached is not null)
        {
            _log.Write(LogLevel.Debug, "state planned from this environment's last write (in-process state cache): no state read", new LogFields(Numbers: [new("partitions", keys.Count)]));
        }

        var planned = PlanAll(_cached?.Snapshot ?? await LoadAsync(keys), candidates);
        if (planned.Count == 0)
        {
            return [];
        }

        var (version, readBack) = await RecordAsync(planned, _cached);
        if (_cached is not null && (readBack.Conflicts.Count > 0 || readBack.NotApplied.Count > 0))
        {
            // The cache was stale: another invocation (another execution environment, or a poller at the same time)
            // recorded a plan for these partitions since this process's last write, or the state changed under it.
            // Nothing was inserted; our write lost to theirs (fenced, and versioned just above the cached one). Record
            // their plans again where ours was kept, as every step-back does, then plan from a state read, exactly as
            // without the cache.
            await RecordTheirsAsync(readBack, version);
            _cache.Stale(Source);
            _log.Write(LogLevel.Information, "state cache stale: another invocation recorded these partitions since this environment's last write; re-planned from the state table", new LogFields(Numbers: [new("partitions", readBack.Conflicts.Count + readBack.NotApplied.Count)]));
            planned = PlanAll(await LoadAsync(keys), candidates);
            if (planned.Count == 0)
            {
                return [];
            }

            (version, readBack) = await RecordAsync(planned, null);
        }

        foreach (var p in planned)
        {
            p.SavedVersion = version;
            p.Recorded = readBack.Recorded.Contains(p.Plan.NewState.Key);
        }

        if (readBack.Conflicts.Count == 0 && readBack.NotApplied.Count == 0)
        {
            return planned;
        }

        await RecordTheirsAsync(readBack, version);
        foreach (var p in planned)
        {
            var key = p.Plan.NewState.Key;
            if (readBack.Conflicts.ContainsKey(key))
            {
                _fail(p.Outcome, new ConcurrentBatchException(p.Outcome));
            }
            else if (readBack.NotApplied.Contains(key))
            {
                _fail(p.Outcome, new StateChangedException(p.Outcome));
            }
        }

        FailGroupPeers(planned);
        return planned.Where(p => p.Outcome.Failure is null).ToList();
    }

    /// <summary>
    /// After the inserts, in the budget's marking phase: fails the delivered partitions another plan overtook, records
    /// the landed marks, and caches this invocation's last write when it ended cleanly.
    /// </summary>
    /// <param name="wholeBatch">Every partition of the batch was planned (none failed before planning).</param>
    public async Task ConfirmAsync(IReadOnlyList<PlannedPartition> planned, bool wholeBatch)
    {
        ArgumentNullException.ThrowIfNull(planned);
        var marking = _retrier.Marking;
        await CheckNotOvertakenAsync(planned, marking);
        var landed = await RecordLandedAsync(planned, marking);
        await RecordViewFailuresAsync(planned, marking);
        if (planned.Count > 0 && wholeBatch && planned.All(p => p.Outcome.Failure is null && p.Recorded))
        {
            // Ended cleanly: every partition delivered and checked, and every state write of it acknowledged. The
            // last write is the plan when no partition needed a landed mark, else the mark if it covered every
            // partition and was acknowledged (a mark of some partitions only, or of unknown outcome: nothing cached).
            var lastWrite = planned.All(p => p.Shape.CanProbe)
                ? (planned.Select(p => p.Plan.NewState).ToList(), planned[0].SavedVersion)
                : landed is { } l && l.States.Count == planned.Count ? l : ((IReadOnlyCollection<PartitionState> States, long Version)?)null;
            if (lastWrite is { } write)
            {
                _cache.Remember(Source, write.States, write.Version);
            }
        }
    }

    /// <summary>The plan of every candidate not failed yet from the recorded states; partitions that cannot be planned fail.</summary>
    private List<PlannedPartition> PlanAll(StateSnapshot snapshot, IReadOnlyList<PlanCandidate> candidates)
    {
        var planned = new List<PlannedPartition>(candidates.Count);
        var groupable = new List<bool>(candidates.Count);
        for (var i = 0; i < candidates.Count; i++)
        {
            var (o, shape) = candidates[i];
            if (o.Failure is not null)
            {
                continue;
            }

            var key = KeyOf(o);
            try
            {
                var recorded = snapshot.States.GetValueOrDefault(key);
                var plan = Reconciler.Plan(
                    key,
                    recorded,
                    new OffsetRange(o.Source.FirstOffset, o.Source.LastOffset),
                    o.Source[0].TimestampMs,
                    shape.CanProbe,
                    _options.StrictOffsets);
                // What each range held goes with the plan write (no request of its own): the audit compares against it.
                // Change events skip their tombstones whatever TOMBSTONES says (src/Core/Cdc).
                var tombstones = shape.ChangeEvents == Configuration.ChangeEventFormat.None ? _options.Tombstones : Configuration.TombstonePolicy.Skip;
                plan = plan with { NewState = RangeCount.Stamp(plan.NewState, o.Source, tombstones) };
                if (o.DeduplicatingTable is { BlockNumber: >= 0 } window)
                {
                    // New ranges remember where their tokens stand against the table's window (read at most a minute
                    // ago, so never ahead of the table): the window guard of a later retry counts from there.
                    plan = plan with { NewState = WindowGuard.Stamp(plan.NewState, new WindowMark(window.BlockNumber, _time.GetUtcNow().ToUnixTimeMilliseconds())) };
                }
                var sharedWithoutSource = snapshot.SharedWithOtherSources.Contains(key) && (shape.PresenceMetadata & MetadataColumns.Source) == 0;
                if (sharedWithoutSource)
                {
                    // Another source's rows at these offsets would answer for ours: new units go through unprobed.
                    plan = plan with { Sends = plan.Sends.Select(s => s with { ProbeFirst = false }).ToList() };
                }

                if (plan.Sends.Any(p => p.Kind == SendKind.FillMissing) && sharedWithoutSource)
                {
                    // Only the presence probe cannot tell the sources apart: new ranges need no probe and go through.
                    _fail(o, new SharedTableWithoutSourceException(o, Source));
                    continue;
                }

                planned.Add(new PlannedPartition(i, o, shape, plan, recorded?.Version ?? 0));
                groupable.Add(shape.CanProbe && !shape.HasMaterializedViews && o.TableDeduplicates == true && !sharedWithoutSource);
            }
            catch (OffsetsRewoundException e)
            {
                _fail(o, e);
            }
        }

        var plans = InsertGroups.Assign(planned.Select((p, i) => new GroupCandidate(p.Shape.Table.ToString(), p.Plan, groupable[i])).ToList());
        return planned.Select((p, i) => p with { Plan = plans[i] }).ToList();
    }

    /// <summary>
    /// A group's insert carries every member or none (its token names them all): when a member may not be sent or may have
    /// been swallowed, neither may the others (retried; their redelivery goes through the fill path, which consumes the group's token first).
    /// </summary>
    public void FailGroupPeers(IEnumerable<PlannedPartition> planned)
    {
        foreach (var group in planned.Where(p => p.Group != 0).GroupBy(p => p.Group))
        {
            if (group.FirstOrDefault(p => p.Outcome.Failure is not null) is { } failed)
            {
                foreach (var p in group.Where(p => p.Outcome.Failure is null))
                {
                    _fail(p.Outcome, new InsertGroupMemberFailedException(p.Outcome, failed.Outcome));
                }
            }
        }
    }

    /// <summary>
    /// State before insert: one small fenced insert for every partition of this invocation (each partition's rows kept
    /// only if its state is still the version the plan was made from), then the read-back of the plans others recorded
    /// since we loaded and of whether ours was kept. Two pollers may deliver different batches of one partition at once
    /// (a rebalance): whichever of two writers reads second sees the other, and steps back (its partition is retried)
    /// after recording the other's plan again if its own write was kept, so the state names what is inserted. Planned
    /// from the cache, the write expects the cached version and is versioned just above it (a state recorded since by
    /// anyone who read that keeps winning) and any plan another writer recorded since the cached write is a conflict,
    /// even one equal to ours: the cache did not see it.
    /// </summary>
    private async Task<(long Version, PlanReadBack ReadBack)> RecordAsync(List<PlannedPartition> planned, CachedStates? cached)
    {
        var writes = planned.Select(p => new StateWrite(p.Plan.NewState, p.LoadedVersion)).ToList();
        var version = _store.NewVersion(cached?.Version ?? 0);
        await _retrier.RunAsync(c => _store.SaveAsync(Source, writes, version, c));
        var readBack = await _retrier.RunAsync(c => _store.ConcurrentPlansAsync(Source, planned.Select(p => (p.Plan.NewState, p.LoadedVersion)).ToList(), version, evenSamePlan: cached is not null, c));
        return (version, readBack);
    }

    /// <summary>
    /// Steps back from the partitions another plan conflicts with: records their plan again where our own write was kept
    /// (only then can ours hide theirs), fenced on our own version so it never overwrites a plan recorded after ours.
    /// </summary>
    private async Task RecordTheirsAsync(PlanReadBack readBack, long ownVersion)
    {
        var theirs = readBack.Conflicts.Where(c => readBack.Recorded.Contains(c.Key)).Select(c => new StateWrite(c.Value, ownVersion)).ToList();
        if (theirs.Count == 0)
        {
            return;
        }

        var version = _store.NewVersion();
        await _retrier.RunAsync(c => _store.SaveAsync(Source, theirs, version, c));
    }

    /// <summary>
    /// A second poller may load the state after our plan was recorded (so it plans on top of ours and its check finds
    /// nothing newer than what it loaded) while we are still inserting: it then sends part of our ranges under our
    /// tokens, and if its smaller body lands first, ClickHouse drops ours as a duplicate and our answer still says
    /// success. So after the inserts, read (sequentially consistent) whether another plan for the partition was
    /// recorded since ours; if so, the partition is answered as a failure and retried from the newest state. A poller
    /// that records its plan after this read starts inserting after every insert of ours was answered, so it cannot
    /// swallow ours (docs/exactly-once.md, case table).
    /// </summary>
    private async Task CheckNotOvertakenAsync(IReadOnlyList<PlannedPartition> planned, Retrier marking)
    {
        var delivered = planned.Where(p => p.Outcome.Failure is null).ToList();
        if (delivered.Count == 0)
        {
            return;
        }

        // Since our own recorded plan; or, where the fence dropped ours because an identical plan was recorded since
        // we loaded, since the loaded version (plans equal to ours ignored): our own version names nothing and, taken
        // from our clock, may lie ahead of plans others recorded after the identical one (a skewed clock hid them).
        var version = delivered[0].SavedVersion;
        IReadOnlyDictionary<PartitionKey, PartitionState> later;
        try
        {
            later = (await marking.RunAsync(c => _store.ConcurrentPlansAsync(Source, delivered.Select(p => (p.Plan.NewState, p.Recorded ? version : p.LoadedVersion)).ToList(), version, evenSamePlan: false, c))).Conflicts;
        }
        catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
        {
            // Unknown whether a concurrent poller spent our tokens: answer as failures, the retry re-plans.
            foreach (var p in delivered)
            {
                _fail(p.Outcome, e is OperationCanceledException ? new DeadlineReachedException(p.Outcome) : e);
            }

            return;
        }

        foreach (var p in delivered.Where(p => later.ContainsKey(p.Plan.NewState.Key)))
        {
            _fail(p.Outcome, new OvertakenByConcurrentBatchException(p.Outcome));
        }

        // The poller on top may have sent its part of an overtaken member under the group's token first, and then
        // ClickHouse dropped the whole group's insert: every member is retried (the fill path finds what is missing).
        FailGroupPeers(delivered);
    }

    /// <summary>The recorded states of these partitions, read from the state table (and shown to the cache).</summary>
    private async Task<StateSnapshot> LoadAsync(List<PartitionKey> keys)
    {
        var snapshot = await _retrier.RunAsync(c => _store.LoadAsync(Source, keys, c));
        _cache.Loaded(Source, snapshot);
        return snapshot;
    }

    /// <summary>
    /// Records the ranges whose first insert landed in the table and was rejected by a materialized view
    /// (<see cref="PartitionOutcome.ViewRejected"/>), so that a redelivery, whole or part, gives the views the whole range
    /// from the table's rows. Fenced on the plan's version; best effort: without the mark a redelivery re-sends its own
    /// records under the range's first token, which gives the views all of the range only when it carries all of it.
    /// </summary>
    private async Task RecordViewFailuresAsync(IReadOnlyList<PlannedPartition> planned, Retrier marking)
    {
        var failed = planned
            .Where(p => p.Outcome.ViewRejected is { } r && p.Recorded && p.Plan.NewState.Entries.Any(e => e.TokenRange == r))
            .Select(p => new StateWrite(
                p.Plan.NewState with { Entries = p.Plan.NewState.Entries.Select(e => e.TokenRange == p.Outcome.ViewRejected && !e.Landed ? e with { ViewFailed = true } : e).ToList() },
                p.SavedVersion))
            .ToList();
        if (failed.Count == 0)
        {
            return;
        }

        try
        {
            await marking.RunAsync(c => _store.SaveAsync(Source, failed, _store.NewVersion(), c));
        }
        catch (Exception e) when (e is ClickHouseException or OperationCanceledException)
        {
            _log.Write(LogLevel.Warning, $"could not record that a materialized view rejected a range's first insert; a smaller redelivery of it may leave the rest of the range missing from the view's table: {e.Message}");
        }
    }

    /// <summary>
    /// For tables without offset columns, records after the inserts that the delivered ranges landed, so a redelivered
    /// subset of them (a lost commit followed by a smaller batch) sends nothing instead of a possibly duplicated tail.
    /// Tables with offset columns do not need it: ClickHouse answers which offsets are present.
    /// </summary>
    /// <returns>The landed states and their version when the mark was acknowledged; null when none was needed or its outcome is unknown.</returns>
    private async Task<(IReadOnlyCollection<PartitionState> States, long Version)?> RecordLandedAsync(IReadOnlyList<PlannedPartition> planned, Retrier marking)
    {
        // Fenced on the plan's own version: a mark applied late, after another plan was recorded, is dropped.
        var landed = planned
            .Where(p => p.Outcome.Failure is null && !p.Shape.CanProbe)
            .Select(p => new StateWrite(Reconciler.Landed(p.Plan, new OffsetRange(p.Outcome.Source.FirstOffset, p.Outcome.Source.LastOffset)), p.SavedVersion))
            .ToList();
        if (landed.Count == 0)
        {
            return null;
        }

        try
        {
            var version = _store.NewVersion();
            await marking.RunAsync(c => _store.SaveAsync(Source, landed, version, c));
            return (landed.Select(l => l.State).ToList(), version);
        }
        catch (OperationCanceledException)
        {
            _log.Write(LogLevel.Warning, "no time left to record the landed ranges after the inserts; a later subset of them is handled as outcome unknown");
        }
        catch (ClickHouseException e)
        {
            // Nothing is lost: without the mark a later subset is handled as "outcome unknown" (bounded, reported).
            _log.Write(LogLevel.Warning, $"could not record the landed ranges after the inserts: {e.Message}", new LogFields(ErrorCode: e.ServerCode));
        }

        return null;
    }
}
