namespace MskClickHouse.Core.Delivery.State;

/// <summary>What the read of the plan records after a state write found, per partition.</summary>
/// <param name="Conflicts">The newest plan another invocation recorded since ours was loaded that differs from ours
/// (planned from the cache: any plan recorded since the cached write).</param>
/// <param name="Recorded">Partitions whose own write was applied (its plan record is there).</param>
/// <param name="NotApplied">Partitions whose own write the fence dropped (the recorded state changed since it was read)
/// without any plan recorded since the load to explain it, e.g. the state rows were deleted meanwhile: nothing names
/// this invocation's plan, so it must not insert under it.</param>
public sealed record PlanReadBack(IReadOnlyDictionary<PartitionKey, PartitionState> Conflicts, IReadOnlySet<PartitionKey> Recorded, IReadOnlySet<PartitionKey> NotApplied);
