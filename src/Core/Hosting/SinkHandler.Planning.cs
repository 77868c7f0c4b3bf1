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
                plan = plan with { NewState = RangeCount.Stamp(plan.NewState, o.Source, _options.Tombstones) };
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
    /// State before insert: one small insert for every partition of this invocation, then the read-back of the plans
    /// others recorded since we loaded. Two pollers may deliver different batches of one partition at once (a
    /// rebalance): whichever of two writers reads second sees the other, and steps back (its partition is retried) after
    /// recording the other's plan again, so the state names what is inserted. Planned from the cache, the write is
    /// versioned just above the cached one (a state recorded since by anyone who read that keeps winning) and any plan
    /// another writer recorded since the cached write is a conflict, even one equal to ours: the cache did not see it.
    /// </summary>
    private async Task<(long Version, IReadOnlyDictionary<PartitionKey, PartitionState> Concurrent)> RecordAsync(SourceIdentity source, List<Planned> planned, CachedStates? cached, DateTimeOffset giveUpAt, CancellationToken ct)
    {
        var states = planned.Select(p => p.Plan.NewState).ToList();
        var version = await _retrier.RunAsync(c => _state.SaveAsync(source, states, cached?.Version ?? 0, c), giveUpAt, null, ct);
        var concurrent = await _retrier.RunAsync(c => _state.ConcurrentPlansAsync(source, planned.Select(p => (p.Plan.NewState, p.LoadedVersion)).ToList(), version, cached is not null, c), giveUpAt, null, ct);
        return (version, concurrent);
    }

    /// <summary>A ready partition's plan (<see cref="Index"/> into the ready list) and the version of the state it was planned from.</summary>
    private sealed record Planned(int Index, PartitionPlan Plan, long LoadedVersion);
}
