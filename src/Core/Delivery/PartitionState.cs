namespace MskClickHouse.Core.Delivery;

/// <summary>Identifies a topic-partition.</summary>
public readonly record struct PartitionKey(string Topic, int Partition);

/// <summary>
/// One recorded piece of a partition's current attempt: the offsets <see cref="Range"/> were (or are about to be)
/// inserted under the token of <see cref="TokenRange"/>. A <see cref="Pending"/> entry has not been inserted under
/// its own token yet: it is the unresolved tail of a range whose token was spent on a subset. A <see cref="Landed"/>
/// entry is known to be in ClickHouse: an invocation got the server's answer for every insert of it (written after
/// the inserts), so a later batch that overlaps it needs to send nothing for it.
/// </summary>
public sealed record StateEntry(OffsetRange Range, OffsetRange TokenRange, int Generation, bool Pending, bool Landed = false);

/// <summary>What the state table holds for one (sink, topic, partition).</summary>
public sealed record PartitionState(PartitionKey Key, int Generation, IReadOnlyList<StateEntry> Entries);
