using System.Globalization;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// Derives <c>insert_deduplication_token</c> values. Pure. A token names a sink, a topic-partition and an
/// offset range: Kafka records are immutable, so the same range always carries the same rows, and the same
/// token is never used for different data. A rewind (offsets reused) bumps the generation, which changes every token.
/// </summary>
public static class DeduplicationToken
{
    /// <summary><c>sink:topic:partition:first-last</c>, with <c>~gN</c> appended for generation N &gt; 0.</summary>
    public static string ForData(string sinkId, string topic, int partition, OffsetRange range, int generation) =>
        generation == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{sinkId}:{topic}:{partition}:{range.First}-{range.Last}")
            : string.Create(CultureInfo.InvariantCulture, $"{sinkId}:{topic}:{partition}:{range.First}-{range.Last}~g{generation}");

    /// <summary>The token of the dead letters that belong to a data insert.</summary>
    public static string ForDeadLetters(string dataToken) => "dlq:" + dataToken;

    /// <summary>The token of one half when an insert is split to find a bad row the server did not name.</summary>
    public static string ForHalf(string token, int half) => token + "/" + half.ToString(CultureInfo.InvariantCulture);
}
