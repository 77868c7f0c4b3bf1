namespace MskClickHouse.Core.Delivery.State;

/// <summary>Why a range is sent, which decides its token and what it means for duplicates.</summary>
public enum SendKind
{
    /// <summary>Offsets never recorded before: a new token.</summary>
    Fresh,

    /// <summary>A recorded range, re-sent whole under its original token: ClickHouse drops it if it had landed.</summary>
    Replay,

    /// <summary>Part of a recorded range, sent under the range's original token (tables without offset columns).</summary>
    Subset,

    /// <summary>
    /// A recorded range, whole or part, on a table with offset columns: ask ClickHouse which offsets are present,
    /// consume the range's current token round with the missing rows, ask again, fill the rest under the next round.
    /// </summary>
    FillMissing,

    /// <summary>An unresolved tail inserted under its own token: it may already have landed with its parent range.</summary>
    Tail,

    /// <summary>Offsets before the recorded range (the consumer group was rewound or the topic recreated).</summary>
    Rewound,

    /// <summary>Part of a range recorded as landed: nothing is sent.</summary>
    AlreadyLanded,
}

/// <summary>
/// One insert the plan asks for: the records of <see cref="Records"/> under the token of <see cref="TokenRange"/>.
/// For <see cref="SendKind.FillMissing"/>, <see cref="Round"/> is the round consumed first; round + 1 fills.
/// <see cref="ProbeFirst"/>: ask the table which of the records it holds already and send only the others (a new unit
/// on a table that can answer, when nothing recorded vouches that these records are new: no state for the partition,
/// or a batch before the recorded range). <see cref="Group"/>: the insert group of the range (<see cref="InsertGroups"/>):
/// round 0 of its token is the group's insert token.
/// </summary>
public sealed record PlannedSend(SendKind Kind, OffsetRange Records, OffsetRange TokenRange, int Generation, int Round = 0, bool ProbeFirst = false, ulong Group = 0)
{
    /// <summary>For a recorded range re-sent under its token: where that token stood against the table's window (<see cref="WindowGuard"/>).</summary>
    public WindowMark? Mark { get; init; }

    /// <summary>The recorded range landed in the table but a view on it rejected the block (<see cref="StateEntry.ViewFailed"/>).</summary>
    public bool ViewFailed { get; init; }

    /// <summary>The recorded range's first insert may have carried only part of it (<see cref="StateEntry.ProbedFirst"/>).</summary>
    public bool ProbedFirst { get; init; }
}

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
    /// <param name="firstTimestampMs">The timestamp of the batch's first record: with its offset it seeds the nonce of
    /// a partition seen for the first time or rewound, so identical batches derive the same nonce (concurrent
    /// duplicates share tokens) while a recreated topic's new records derive a new one.</param>
    /// <param name="tableHasOffsetColumns">The table can answer which records are present (<c>TableShape.CanProbe</c>).</param>
    public static PartitionPlan Plan(PartitionKey key, PartitionState? recorded, OffsetRange batch, long firstTimestampMs, bool tableHasOffsetColumns, bool strictOffsets)
    {
        // The mapping only moves past offsets after a successful invocation: entries that end before the batch are committed.
        var live = recorded is null
            ? []
            : recorded.Entries.Where(e => e.Range.Last >= batch.First).OrderBy(e => e.Range.First).ToList();

        var sends = new List<PlannedSend>();
        var entries = new List<StateEntry>();

        if (live.Count > 0 && batch.First < live[0].Range.First)
        {
            // The batch starts before the recorded attempt (which itself started at the committed offset of its time):
            // the consumer group was rewound or the topic recreated, whether the batch ends before the recorded range or
            // overlaps it. A recreated topic has new records at the old offsets, so nothing recorded may be trusted for
            // them: the whole batch is new data under a new nonce, which no earlier token can match.
            if (strictOffsets)
            {
                throw new OffsetsRewoundException(key, batch, live[0].Range);
            }

            var generation = recorded!.Generation + 1;
            var nonce = DeriveNonce(recorded.Nonce, batch.First, firstTimestampMs);
            // On a table that can answer, the records already there (a stale poller's batch, a rewind over records
            // that landed) are found by their content and not sent again; a recreated topic's new records are not found.
            sends.Add(new PlannedSend(SendKind.Rewound, batch, batch, 0, ProbeFirst: tableHasOffsetColumns));
            entries.Add(new StateEntry(batch, batch, 0, false, ProbedFirst: tableHasOffsetColumns));
            return new PartitionPlan(sends, new PartitionState(key, generation, entries, nonce, Legacy: false));
        }

        // A state written before source identity keeps its token format while its ranges are live (a retry across the
        // upgrade keeps its token); once they are committed the partition moves to the current format.
        PartitionState next = recorded is null || (recorded.Legacy && live.Count == 0)
            ? new PartitionState(key, recorded?.Generation ?? 0, [], DeriveNonce(recorded?.Nonce ?? 0, batch.First, firstTimestampMs), Legacy: false)
            : recorded with { Entries = [] };

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
                sends.Add(new PlannedSend(SendKind.Fresh, gap, gap, next.Generation));
                entries.Add(new StateEntry(gap, gap, next.Generation, false));
            }

            var overlap = e.Range.Intersect(batch);
            if (e.Landed)
            {
                // Every row of this range got the server's answer: whatever part of it the batch repeats is already in.
                sends.Add(new PlannedSend(SendKind.AlreadyLanded, overlap, e.TokenRange, e.Generation));
                entries.Add(e);
            }
            else if (tableHasOffsetColumns)
            {
                // Whole range or part of it, sent before or not: consume the range's current token round with the rows
                // that are missing, then fill what is still missing under the next round (recorded here, before use).
                sends.Add(new PlannedSend(SendKind.FillMissing, overlap, e.TokenRange, e.Generation, e.Round, Group: e.Group) { Mark = e.Mark, ViewFailed = e.ViewFailed, ProbedFirst = e.ProbedFirst });
                entries.Add(e with { Round = e.Round + 1 });
            }
            else if (e.Group != 0)
            {
                // Sent in an insert group, and the table can no longer be asked (its offset columns or its view changed
                // since): the range's own token was never used, and the group's token cannot be re-sent with this
                // partition's rows alone (the other members' rows would be dropped with it). Unknown whether the group
                // landed: the batch's part goes under a token of its own, counted as possible duplicates.
                sends.Add(new PlannedSend(SendKind.Tail, overlap, overlap, e.Generation));
                entries.Add(new StateEntry(overlap, overlap, e.Generation, false));
                AddPendingRest(entries, e with { Group = 0 }, overlap);
            }
            else if (overlap == e.Range)
            {
                if (e.Pending)
                {
                    sends.Add(new PlannedSend(SendKind.Tail, e.Range, e.Range, e.Generation));
                    entries.Add(new StateEntry(e.Range, e.Range, e.Generation, false));
                }
                else
                {
                    sends.Add(new PlannedSend(SendKind.Replay, e.Range, e.TokenRange, e.Generation) { Mark = e.Mark });
                    entries.Add(e);
                }
            }
            else if (e.Pending)
            {
                sends.Add(new PlannedSend(SendKind.Tail, overlap, overlap, e.Generation));
                entries.Add(new StateEntry(overlap, overlap, e.Generation, false));
                AddPendingRest(entries, e, overlap);
            }
            else
            {
                sends.Add(new PlannedSend(SendKind.Subset, overlap, e.TokenRange, e.Generation) { Mark = e.Mark });
                entries.Add(new StateEntry(overlap, e.TokenRange, e.Generation, false, Mark: e.Mark));
                AddPendingRest(entries, e, overlap);
            }

            cursor = overlap.Last + 1;
        }

        if (cursor <= batch.Last)
        {
            // Without any state for the partition (seen for the first time, the state table truncated or replaced, a
            // new SINK_ID) nothing says these records are new: a table that can answer is asked first.
            var rest = new OffsetRange(cursor, batch.Last);
            var probeFirst = tableHasOffsetColumns && recorded is null;
            sends.Add(new PlannedSend(SendKind.Fresh, rest, rest, next.Generation, ProbeFirst: probeFirst));
            entries.Add(new StateEntry(rest, rest, next.Generation, false, ProbedFirst: probeFirst));
        }

        entries.Sort((a, b) => a.Range.First.CompareTo(b.Range.First));
        return new PartitionPlan(sends, next with { Entries = entries });
    }

    /// <summary>
    /// A nonce that never repeats for different data: mixed from the previous nonce and the batch's first offset and
    /// first record timestamp (SplitMix64 finalizer). Never 0.
    /// </summary>
    public static ulong DeriveNonce(ulong previous, long firstOffset, long firstTimestampMs)
    {
        var x = previous ^ Mix((ulong)firstOffset + 0x9E3779B97F4A7C15UL) ^ Mix((ulong)firstTimestampMs ^ 0xD1B54A32D192ED03UL);
        x = Mix(x);
        return x == 0 ? 1 : x;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
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
