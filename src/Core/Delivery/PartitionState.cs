namespace MskClickHouse.Core.Delivery;

/// <summary>Identifies a topic-partition.</summary>
public readonly record struct PartitionKey(string Topic, int Partition);

/// <summary>
/// One recorded piece of a partition's current attempt: the offsets <see cref="Range"/> were (or are about to be)
/// inserted under the token of <see cref="TokenRange"/>. A <see cref="Pending"/> entry has not been inserted under
/// its own token yet: it is the unresolved tail of a range whose token was spent on a subset.
/// </summary>
public sealed record StateEntry(OffsetRange Range, OffsetRange TokenRange, int Generation, bool Pending);

/// <summary>What the state table holds for one (sink, topic, partition).</summary>
public sealed record PartitionState(PartitionKey Key, int Generation, IReadOnlyList<StateEntry> Entries);
