using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Delivery.State;

/// <summary>
/// What one recorded range held when a batch delivered it: <see cref="Records"/> records received (distinct offsets;
/// Kafka leaves offset gaps for transaction markers and compaction, so the range's width says nothing), of which
/// <see cref="Skipped"/> were tombstones skipped by policy (they leave no trace in any table). Every other record is
/// either a row of the target table or a dead letter: the completeness audit (src/Core/Audit) checks exactly that.
/// Recorded with the state, in the plan write the sink makes anyway (no extra request).
/// </summary>
public readonly record struct RangeCount(int Records, int Skipped)
{
    /// <summary>Rows the target table and the dead-letter table together must hold for the range.</summary>
    public int Expected => Records - Skipped;

    /// <summary>
    /// The plan's state with a count on every entry the batch covers (the batch holds all of that range's records);
    /// entries outside the batch (recorded ranges after it, pending tails) keep what they had. Needs only the batch and
    /// the tombstone policy, not the encoded rows: the plan is recorded while the partition is still being encoded.
    /// A tombstone (a null value the decoder had nothing to say about) under <see cref="TombstonePolicy.Skip"/> leaves
    /// no row and no dead letter, exactly as <see cref="RowEncoder"/> skips it; every other record becomes one or the other.
    /// </summary>
    public static PartitionState Stamp(PartitionState state, PartitionRecords partition, TombstonePolicy tombstones)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(partition);
        var records = partition;
        if (records.Count == 0)
        {
            return state;
        }

        var batch = new OffsetRange(records.FirstOffset, records.LastOffset);
        var entries = new List<StateEntry>(state.Entries.Count);
        foreach (var e in state.Entries)
        {
            if (!batch.Covers(e.Range))
            {
                entries.Add(e);
                continue;
            }

            int first = Lower(records, e.Range.First), end = Lower(records, e.Range.Last + 1), skipped = 0;
            if (tombstones == TombstonePolicy.Skip)
            {
                for (var i = first; i < end; i++)
                {
                    skipped += records[i].IsTombstone ? 1 : 0;
                }
            }

            entries.Add(e with { Count = new RangeCount(end - first, skipped) });
        }

        return state with { Entries = entries };
    }

    /// <summary>The index of the first record at or after <paramref name="offset"/> (records ascend by offset).</summary>
    private static int Lower(PartitionRecords records, long offset)
    {
        int lo = 0, hi = records.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (records[mid].Offset < offset)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
