namespace MskClickHouse.Core.Events;

/// <summary>
/// A record whose identity (topic, partition, offset) could not be read: it belongs to no partition, so no offset of
/// the exactly-once protocol can stand for it. Its identity is its place in the event: <see cref="Position"/>, the
/// byte where its object starts. <see cref="Record"/> carries the reason in <see cref="KafkaRecord.Error"/> and the
/// record's JSON text, as sent, in <see cref="KafkaRecord.Value"/>.
/// </summary>
/// <param name="Topic">The record's own topic when it could be read, else empty.</param>
/// <param name="Partition">The record's own partition when it could be read, else -1.</param>
public sealed record UnidentifiedRecord(long Position, string MapKey, string Topic, int Partition, KafkaRecord Record)
{
    /// <summary>
    /// The offset its dead letter carries: -1 - <see cref="Position"/>, negative so that it never names a Kafka
    /// offset, distinct for every record of the event.
    /// </summary>
    public long DeadLetterOffset => -1 - Position;
}
