namespace MskClickHouse.Core.Delivery.State;

/// <summary>Identifies a topic-partition (of one source cluster: the state store and tokens add the source).</summary>
public readonly record struct PartitionKey(string Topic, int Partition);

/// <summary>
/// One recorded piece of a partition's current attempt: the offsets <see cref="Range"/> were (or are about to be)
/// inserted under the token of <see cref="TokenRange"/>. A <see cref="Pending"/> entry has not been inserted under
/// its own token yet: it is the unresolved tail of a range whose token was spent on a subset. A <see cref="Landed"/>
/// entry is known to be in ClickHouse: an invocation got the server's answer for every insert of it (written after
/// the inserts), so a later batch that overlaps it needs to send nothing for it. <see cref="Round"/> is the highest
/// fencing round of the range's token that may have been used (tables with offset columns, docs/exactly-once.md).
/// <see cref="Generation"/> only matters for ranges recorded by versions before the nonce (legacy tokens).
/// <see cref="Count"/>: what the range held when a batch covering it was planned (null: not known, e.g. a pending tail
/// or a row written before counts were recorded); read by the completeness audit only. <see cref="Group"/>: nonzero when
/// the range went out in one insert with other partitions' ranges of its table (<see cref="InsertGroups"/>): round 0 of
/// its token is then that insert's token, shared by every member. <see cref="Mark"/>: where the range's token stood against
/// the table's deduplication window when it was first recorded (<see cref="WindowGuard"/>; null: not known).
/// <see cref="ViewFailed"/>: round 0 of the range's token landed in the table and a materialized view on the table
/// rejected the block, when no later round had been used (recorded after the failure): the table's rows of the range are
/// round 0's, and a redelivery re-sends them to the views from the table (<see cref="ViewRefill"/>). <see cref="ProbedFirst"/>: the range's first insert was planned to leave out the
/// records the table held already (no state vouched that they were new), so round 0 of its token may carry only part of it.
/// </summary>
public sealed record StateEntry(OffsetRange Range, OffsetRange TokenRange, int Generation, bool Pending, bool Landed = false, int Round = 0, RangeCount? Count = null, ulong Group = 0, WindowMark? Mark = null, bool ViewFailed = false, bool ProbedFirst = false);

/// <summary>
/// What the state table holds for one (sink, source, topic, partition). <see cref="Nonce"/> is part of every token:
/// it is derived from the data when the partition is first seen and changes on every rewind, so it never repeats for
/// different data, even after the state row was deleted. <see cref="Legacy"/>: recorded by a version without source
/// identity (tokens keep that format while its ranges are live). <see cref="Version"/>: the row's version when loaded.
/// </summary>
public sealed record PartitionState(PartitionKey Key, int Generation, IReadOnlyList<StateEntry> Entries, ulong Nonce = 0, bool Legacy = false, long Version = 0)
{
    /// <summary>The token scope of this state.</summary>
    public TokenScope ScopeFor(string sinkId, SourceIdentity source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new TokenScope(sinkId, source.Hash, Nonce, Legacy);
    }

    /// <summary>
    /// Same ranges, tokens (insert groups too), fencing rounds, nonce and format (landed marks aside): two plans that insert the same. A
    /// plan that differs only in rounds was made on top of the other (it loaded it) and fills under other tokens.
    /// </summary>
    public bool SamePlanAs(PartitionState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Nonce == other.Nonce && Legacy == other.Legacy && Entries.Count == other.Entries.Count
            && Entries.Zip(other.Entries).All(p => p.First.Range == p.Second.Range && p.First.TokenRange == p.Second.TokenRange
                && p.First.Generation == p.Second.Generation && p.First.Pending == p.Second.Pending && p.First.Round == p.Second.Round
                && p.First.Group == p.Second.Group);
    }
}
