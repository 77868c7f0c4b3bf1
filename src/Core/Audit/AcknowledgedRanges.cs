using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Audit;

/// <summary>
/// Which recorded ranges of one (source, topic, partition) the sink received AND acknowledged, from its plan records.
/// Pure. A range counts as acknowledged when (docs/operations.md, "Audit"):
/// <list type="bullet">
/// <item>a later plan of the same nonce starts after it: the mapping moved its committed offset past the range,
/// which it does only after an invocation answered success for it (or after discarding the batch, which the template's
/// defaults never do: MaximumRetryAttempts and MaximumRecordAgeInSeconds are -1); or</item>
/// <item>a record marks it landed: written only after every insert of the range was answered.</item>
/// </list>
/// The newest plan of a partition is never proven (its invocation may still be running, or have failed and wait for
/// its retry), nor is a plan that failed and was retried until a plan after the retry exists. Ranges without a recorded
/// count (pending tails, rows written before counts) are not audited. Overlapping ranges (a retry that re-batched the
/// offsets differently, a rewind under a new nonce) are reduced to a disjoint set, preferring the wider range at each
/// start: an offset counted twice would hide a missing record of another range, an offset left out only hides.
/// </summary>
public static class AcknowledgedRanges
{
    public static IReadOnlyList<AuditedRange> Of(IReadOnlyList<PlanRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var candidates = new Dictionary<(ulong Nonce, long First, long Last), RangeCount>();
        foreach (var nonceGroup in records.GroupBy(r => r.Nonce))
        {
            var byVersion = nonceGroup.OrderByDescending(r => r.Version).ToList();
            var landed = byVersion.SelectMany(r => r.Entries.Where(e => e.Landed).Select(e => e.Range)).ToHashSet();

            // Walk from the newest down: laterStart is the highest first offset of any plan newer than the current one.
            var laterStart = long.MinValue;
            var i = 0;
            while (i < byVersion.Count)
            {
                var version = byVersion[i].Version;
                var sameVersion = byVersion.Skip(i).TakeWhile(r => r.Version == version).ToList();
                foreach (var record in sameVersion)
                {
                    foreach (var e in record.Entries)
                    {
                        if (e.Count is { } count && !e.Pending && (laterStart > e.Range.Last || landed.Contains(e.Range)))
                        {
                            candidates.TryAdd((record.Nonce, e.Range.First, e.Range.Last), count);
                        }
                    }
                }

                foreach (var record in sameVersion)
                {
                    laterStart = Math.Max(laterStart, record.FirstOffset == long.MaxValue ? long.MinValue : record.FirstOffset);
                }

                i += sameVersion.Count;
            }
        }

        var disjoint = new List<AuditedRange>();
        long takenUpTo = long.MinValue;
        foreach (var ((_, first, last), count) in candidates.OrderBy(c => c.Key.First).ThenByDescending(c => c.Key.Last))
        {
            if (first <= takenUpTo)
            {
                continue;
            }

            disjoint.Add(new AuditedRange(new OffsetRange(first, last), count));
            takenUpTo = last;
        }

        return disjoint;
    }
}
