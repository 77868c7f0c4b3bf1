namespace MskClickHouse.Core.Delivery;

/// <summary>Why a range is sent, which decides its token and what it means for duplicates.</summary>
public enum SendKind
{
    /// <summary>Offsets never recorded before: a new token.</summary>
    Fresh,

    /// <summary>A recorded range, re-sent whole under its original token: ClickHouse drops it if it had landed.</summary>
    Replay,

    /// <summary>Part of a recorded range, sent under the range's original token (tables without offset columns).</summary>
    Subset,

    /// <summary>Part of a recorded range: ask ClickHouse which offsets are present and insert only the missing ones.</summary>
    FillMissing,

    /// <summary>An unresolved tail inserted under its own token: it may already have landed with its parent range.</summary>
    Tail,

    /// <summary>Offsets before the recorded range (the consumer group was rewound or the topic recreated).</summary>
    Rewound,

    /// <summary>Part of a range recorded as landed: nothing is sent.</summary>
    AlreadyLanded,
}

/// <summary>One insert the plan asks for: the records of <see cref="Records"/> under the token of <see cref="TokenRange"/>.</summary>
public sealed record PlannedSend(SendKind Kind, OffsetRange Records, OffsetRange TokenRange, int Generation);

/// <summary>What to send for one partition, and the state to record before sending it.</summary>
public sealed record PartitionPlan(IReadOnlyList<PlannedSend> Sends, PartitionState NewState);

/// <summary>Thrown in strict mode when a batch lies before the recorded range.</summary>
public sealed class OffsetsRewoundException : Errors.SinkException
{
    public OffsetsRewoundException(PartitionKey key, OffsetRange batch, OffsetRange recorded)
        : base($"{key.Topic}/{key.Partition}: batch offsets {batch} lie before the recorded range {recorded} (offsets rewound or topic recreated); STRICT_OFFSETS=true refuses to insert them")
    {
    }

    public override bool IsRetryable => false;
}

/// <summary>
/// The exactly-once case table, as a pure function of the recorded state and the batch's offset range.
/// See docs/exactly-once.md.
/// </summary>
public static class Reconciler
{
    public static PartitionPlan Plan(PartitionKey key, PartitionState? recorded, OffsetRange batch, bool tableHasOffsetColumns, bool strictOffsets)
    {
        var generation = recorded?.Generation ?? 0;

        // The mapping only moves past offsets after a successful invocation: entries that end before the batch are committed.
        var live = recorded is null
            ? []
            : recorded.Entries.Where(e => e.Range.Last >= batch.First).OrderBy(e => e.Range.First).ToList();

        var sends = new List<PlannedSend>();
        var entries = new List<StateEntry>();

        if (live.Count > 0 && batch.Last < live[0].Range.First)
        {
            if (strictOffsets)
            {
                throw new OffsetsRewoundException(key, batch, live[0].Range);
            }

            // Offsets rewound: start a new generation so no earlier token can swallow these rows.
            generation++;
            sends.Add(new PlannedSend(SendKind.Rewound, batch, batch, generation));
            entries.Add(new StateEntry(batch, batch, generation, false));
            return new PartitionPlan(sends, new PartitionState(key, generation, entries));
        }

        var cursor = batch.First;
        foreach (var e in live)
        {
            if (e.Range.First > batch.Last)
            {
                entries.Add(e);
                continue;
            }

            if (cursor < e.Range.First)
            {
                var gap = new OffsetRange(cursor, e.Range.First - 1);
                var kind = sends.Count == 0 && cursor == batch.First ? SendKind.Rewound : SendKind.Fresh;
                if (kind == SendKind.Rewound && strictOffsets)
                {
                    throw new OffsetsRewoundException(key, batch, e.Range);
                }

                sends.Add(new PlannedSend(kind, gap, gap, generation));
                entries.Add(new StateEntry(gap, gap, generation, false));
            }

            var overlap = e.Range.Intersect(batch);
            if (e.Landed)
            {
                // Every row of this range got the server's answer: whatever part of it the batch repeats is already in.
                sends.Add(new PlannedSend(SendKind.AlreadyLanded, overlap, e.TokenRange, e.Generation));
                entries.Add(e);
            }
            else if (overlap == e.Range)
            {
                if (e.Pending)
                {
                    sends.Add(new PlannedSend(SendKind.Tail, e.Range, e.Range, generation));
                    entries.Add(new StateEntry(e.Range, e.Range, generation, false));
                }
                else
                {
                    sends.Add(new PlannedSend(SendKind.Replay, e.Range, e.TokenRange, e.Generation));
                    entries.Add(e);
                }
            }
            else if (tableHasOffsetColumns)
            {
                sends.Add(new PlannedSend(SendKind.FillMissing, overlap, overlap, generation));
                entries.Add(e);
            }
            else if (e.Pending)
            {
                sends.Add(new PlannedSend(SendKind.Tail, overlap, overlap, generation));
                entries.Add(new StateEntry(overlap, overlap, generation, false));
                AddPendingRest(entries, e, overlap);
            }
            else
            {
                sends.Add(new PlannedSend(SendKind.Subset, overlap, e.TokenRange, e.Generation));
                entries.Add(new StateEntry(overlap, e.TokenRange, e.Generation, false));
                AddPendingRest(entries, e, overlap);
            }

            cursor = overlap.Last + 1;
        }

        if (cursor <= batch.Last)
        {
            var rest = new OffsetRange(cursor, batch.Last);
            sends.Add(new PlannedSend(SendKind.Fresh, rest, rest, generation));
            entries.Add(new StateEntry(rest, rest, generation, false));
        }

        entries.Sort((a, b) => a.Range.First.CompareTo(b.Range.First));
        return new PartitionPlan(sends, new PartitionState(key, generation, entries));
    }

    /// <summary>
    /// The state to record after every insert of <paramref name="plan"/> was answered: the entries the batch covered
    /// are landed, so a repeated or partial redelivery of them sends nothing.
    /// </summary>
    public static PartitionState Landed(PartitionPlan plan, OffsetRange batch)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var entries = plan.NewState.Entries
            .Select(e => !e.Pending && batch.Covers(e.Range) ? e with { Landed = true } : e)
            .ToList();
        return plan.NewState with { Entries = entries };
    }

    /// <summary>
    /// The part of <paramref name="entry"/> after the batch stays to be inserted under its own token later.
    /// (The part before the batch was committed by the mapping, so it was delivered by an earlier invocation.)
    /// </summary>
    private static void AddPendingRest(List<StateEntry> entries, StateEntry entry, OffsetRange overlap)
    {
        if (overlap.Last < entry.Range.Last)
        {
            var tail = new OffsetRange(overlap.Last + 1, entry.Range.Last);
            entries.Add(new StateEntry(tail, tail, entry.Generation, true));
        }
    }
}
