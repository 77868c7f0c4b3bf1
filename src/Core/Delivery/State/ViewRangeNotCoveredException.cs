namespace MskClickHouse.Core.Delivery.State;

/// <summary>
/// A batch repeats only part of a recorded range whose insert landed in the table but was rejected by a materialized
/// view on it. Re-sending that part under the range's first token would spend the token in the view's table with part
/// of the rows, and the rest would then never reach it; so the partition waits (retried) for a redelivery that covers
/// the whole range, at most <see cref="Reconciler.ViewWait"/> after the range was first sent.
/// </summary>
public sealed class ViewRangeNotCoveredException(PartitionKey key, OffsetRange batch, OffsetRange recorded)
    : Errors.SinkException($"{key.Topic}/{key.Partition}: offsets {batch} repeat only part of {recorded}, whose insert landed in the table but was rejected by a materialized view on it; waiting for a redelivery of the whole range, so that the view gets all of it (at most {Reconciler.ViewWait.TotalMinutes:0} minutes after the range was first sent, then the part is sent and the rest of the range may be missing from the view's table)")
{
    public override bool IsRetryable => true;
}
