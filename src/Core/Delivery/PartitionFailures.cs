namespace MskClickHouse.Core.Delivery;

/// <summary>The invocation's time ran out before this partition was delivered: it is answered as a failure and retried.</summary>
public sealed class DeadlineReachedException(PartitionOutcome outcome)
    : Errors.SinkException($"{outcome.Source.Topic}/{outcome.Source.Partition}: offsets {outcome.Source.FirstOffset}-{outcome.Source.LastOffset} not delivered to {outcome.Table} before the invocation's deadline (minus DEADLINE_SAFETY_MARGIN_MS); reported for retry")
{
    public override bool IsRetryable => true;
}

/// <summary>Another invocation recorded a different batch of this partition at the same time (a poller rebalance).</summary>
public sealed class ConcurrentBatchException(PartitionOutcome outcome)
    : Errors.SinkException($"{outcome.Source.Topic}/{outcome.Source.Partition}: another invocation is delivering a different batch of this partition at the same time (poller rebalance); offsets {outcome.Source.FirstOffset}-{outcome.Source.LastOffset} were not inserted and are reported for retry")
{
    public override bool IsRetryable => true;
}

/// <summary>
/// The fenced state write dropped this invocation's plan (the partition's recorded state changed since it was read) and
/// no plan recorded since explains the change (e.g. the state rows were deleted meanwhile): nothing names this plan, so
/// nothing was inserted under it. Retried from the state as it is now.
/// </summary>
public sealed class StateChangedException(PartitionOutcome outcome)
    : Errors.SinkException($"{outcome.Source.Topic}/{outcome.Source.Partition}: the partition's recorded delivery state changed while offsets {outcome.Source.FirstOffset}-{outcome.Source.LastOffset} were being planned (the state write was not applied); nothing was inserted, reported for retry")
{
    public override bool IsRetryable => true;
}

/// <summary>
/// Another invocation recorded a plan for this partition while this one was inserting: its inserts may have spent this
/// invocation's tokens with fewer rows (ClickHouse then dropped ours), so success cannot be claimed. Retried.
/// </summary>
public sealed class OvertakenByConcurrentBatchException(PartitionOutcome outcome)
    : Errors.SinkException($"{outcome.Source.Topic}/{outcome.Source.Partition}: another invocation recorded a different plan for this partition while offsets {outcome.Source.FirstOffset}-{outcome.Source.LastOffset} were being inserted (poller rebalance); its inserts may have used this invocation's tokens, so the partition is reported for retry and re-planned from the newest state")
{
    public override bool IsRetryable => true;
}

/// <summary>
/// A table with offset columns but no <c>_source</c> receives one topic-partition from two source clusters: the
/// presence probe (which offsets are in the table) cannot tell them apart, so the sink refuses rather than skip rows.
/// </summary>
public sealed class SharedTableWithoutSourceException(PartitionOutcome outcome, SourceIdentity source)
    : Errors.SinkException($"table {outcome.Table} receives topic '{outcome.Source.Topic}' partition {outcome.Source.Partition} from more than one source cluster (this one: {source.Name}) but has no _source column, so the sink cannot tell their offsets apart: ALTER TABLE {outcome.Table} ADD COLUMN _source LowCardinality(String), or route one source's topic to another table with TOPIC_TABLES")
{
    public override bool IsRetryable => false;
}

/// <summary>
/// The partition's new range goes out in one insert with other partitions of its table (an insert group), and one of
/// them may not be sent (it stepped back, or was overtaken): the group's insert carries every member or none. Retried.
/// </summary>
public sealed class InsertGroupMemberFailedException(PartitionOutcome outcome, PartitionOutcome member)
    : Errors.SinkException($"{outcome.Source.Topic}/{outcome.Source.Partition}: offsets {outcome.Source.FirstOffset}-{outcome.Source.LastOffset} share one insert into {outcome.Table} with {member.Source.Topic}/{member.Source.Partition}, which could not be delivered ({member.Failure?.Message}); reported for retry with it")
{
    public override bool IsRetryable => true;
}
