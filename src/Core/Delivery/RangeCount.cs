using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Delivery;

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
    /// entries outside the batch (recorded ranges after it, pending tails) keep what they had.
    /// </summary>
    public static PartitionState Stamp(PartitionState state, EncodedPartition encoded)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(encoded);
        var records = encoded.Source.Records;
        if (records.Length == 0)
        {
            return state;
        }

        var batch = new OffsetRange(records[0].Offset, records[^1].Offset);
        var rejected = new long[encoded.Rejected.Count];
        for (var i = 0; i < rejected.Length; i++)
        {
            rejected[i] = records[encoded.Rejected[i].RecordIndex].Offset;
        }

        Array.Sort(rejected);
        var entries = new List<StateEntry>(state.Entries.Count);
        foreach (var e in state.Entries)
        {
            if (!batch.Covers(e.Range))
            {
                entries.Add(e);
                continue;
            }

            var received = CountIn(records, e.Range);
            var landing = CountIn(encoded.RowOffsets, e.Range) + CountIn(rejected, e.Range);
            entries.Add(e with { Count = new RangeCount(received, received - landing) });
        }

        return state with { Entries = entries };
    }

    /// <summary>How many of the ascending, distinct offsets lie in <paramref name="range"/>.</summary>
    internal static int CountIn(long[] ascending, OffsetRange range) =>
        LowerBound(ascending, range.Last + 1) - LowerBound(ascending, range.First);

    private static int CountIn(KafkaRecord[] records, OffsetRange range)
    {
        int Lower(long offset)
        {
            int lo = 0, hi = records.Length;
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

        return Lower(range.Last + 1) - Lower(range.First);
    }

    private static int LowerBound(long[] ascending, long offset)
    {
        var i = Array.BinarySearch(ascending, offset);
        return i >= 0 ? i : ~i;
    }
}
