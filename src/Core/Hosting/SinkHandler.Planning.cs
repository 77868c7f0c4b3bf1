using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Hosting;

/// <summary>Planning every partition from the recorded (or cached) state, and recording the plans before any insert.</summary>
public sealed partial class SinkHandler
{
    /// <summary>The plan of every ready partition from the recorded states; partitions that cannot be planned fail.</summary>
    private List<Planned> PlanAll(SourceIdentity source, StateSnapshot snapshot, List<(PartitionOutcome Outcome, TableShape Shape)> ready)
    {
        var planned = new List<Planned>(ready.Count);
        for (var i = 0; i < ready.Count; i++)
        {
            var (o, shape) = ready[i];
            if (o.Failure is not null)
            {
                continue;
            }

            var key = new PartitionKey(o.Source.Topic, o.Source.Partition);
            try
            {
                var recorded = snapshot.States.GetValueOrDefault(key);
                var plan = Reconciler.Plan(
                    key,
                    recorded,
                    new OffsetRange(o.Source.FirstOffset, o.Source.LastOffset),
                    o.Source.Records[0].TimestampMs,
                    shape.HasOffsetColumns,
                    _options.StrictOffsets);
                // What each range held goes with the plan write (no request of its own): the audit compares against it.
                // Change events skip their tombstones whatever TOMBSTONES says (src/Core/Cdc).
                var tombstones = shape.ChangeEvents == Configuration.ChangeEventFormat.None ? _options.Tombstones : Configuration.TombstonePolicy.Skip;
                plan = plan with { NewState = RangeCount.Stamp(plan.NewState, o.Source, tombstones) };
                if (plan.Sends.Any(p => p.Kind == SendKind.FillMissing) && snapshot.SharedWithOtherSources.Contains(key) && (shape.Metadata & MetadataColumns.Source) == 0)
                {
                    // Only the presence probe cannot tell the sources apart: new ranges need no probe and go through.
                    Fail(o, new SharedTableWithoutSourceException(o, source));
                    continue;
                }

                planned.Add(new Planned(i, plan, recorded?.Version ?? 0));
            }
            catch (OffsetsRewoundException e)
            {
                Fail(o, e);
            }
        }

        return planned;
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
    private async Task<(long Version, PlanReadBack ReadBack)> RecordAsync(SourceIdentity source, List<Planned> planned, CachedStates? cached, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        var writes = planned.Select(p => new StateWrite(p.Plan.NewState, p.LoadedVersion)).ToList();
        var version = _state.NewVersion(cached?.Version ?? 0);
        await _retrier.RunAsync(async c => { await _state.SaveAsync(source, writes, version, c); return true; }, giveUpAt, null, ct);
        var readBack = await _retrier.RunAsync(c => _state.ConcurrentPlansAsync(source, planned.Select(p => (p.Plan.NewState, p.LoadedVersion)).ToList(), version, cached is not null, c), giveUpAt, null, ct);
        return (version, readBack);
    }

    /// <summary>
    /// Steps back from the partitions another plan conflicts with: records their plan again where our own write was kept
    /// (only then can ours hide theirs), fenced on our own version so it never overwrites a plan recorded after ours.
    /// </summary>
    private Task<bool> RecordTheirsAsync(SourceIdentity source, PlanReadBack readBack, long ownVersion, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        var theirs = readBack.Conflicts.Where(c => readBack.Recorded.Contains(c.Key)).Select(c => new StateWrite(c.Value, ownVersion)).ToList();
        if (theirs.Count == 0)
        {
            return Task.FromResult(false);
        }

        var version = _state.NewVersion();
        return _retrier.RunAsync(async c => { await _state.SaveAsync(source, theirs, version, c); return true; }, giveUpAt, null, ct);
    }

    /// <summary>A ready partition's plan (<see cref="Index"/> into the ready list) and the version of the state it was planned from.</summary>
    private sealed record Planned(int Index, PartitionPlan Plan, long LoadedVersion);
}
