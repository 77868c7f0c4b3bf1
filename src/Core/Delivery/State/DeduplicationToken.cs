using System.Globalization;

namespace MskClickHouse.Core.Delivery.State;

/// <summary>
/// Derives <c>insert_deduplication_token</c> values. Pure. A token names a sink, a source cluster, a topic-partition,
/// an offset range, the partition's nonce and a round: Kafka records are immutable, so the same range always carries
/// the same rows. The nonce changes on a rewind or a recreated topic (new data at old offsets), so no old token can
/// swallow new rows. The round is the fencing counter of the fill path (docs/exactly-once.md): round r+1 of a range
/// is used only after an insert under round r was acknowledged, so no earlier round can still be applied.
/// </summary>
public static class DeduplicationToken
{
    /// <summary>
    /// <c>sink:source:topic:partition:first-last~nonce</c> (state written by this version), or the format of earlier
    /// versions, <c>sink:topic:partition:first-last</c> with <c>~gN</c> for generation N &gt; 0, for ranges recorded by
    /// them (so an in-flight retry across an upgrade keeps its token); <c>/rN</c> is appended for round N &gt; 0.
    /// </summary>
    public static string ForData(TokenScope scope, string topic, int partition, OffsetRange range, int generation, int round)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var token = scope.Legacy
            ? generation == 0
                ? string.Create(CultureInfo.InvariantCulture, $"{scope.SinkId}:{topic}:{partition}:{range.First}-{range.Last}")
                : string.Create(CultureInfo.InvariantCulture, $"{scope.SinkId}:{topic}:{partition}:{range.First}-{range.Last}~g{generation}")
            : string.Create(CultureInfo.InvariantCulture, $"{scope.SinkId}:{scope.SourceHash}:{topic}:{partition}:{range.First}-{range.Last}~{scope.Nonce:x16}");
        return round == 0 ? token : string.Create(CultureInfo.InvariantCulture, $"{token}/r{round}");
    }

    /// <summary>
    /// <c>sink:source:db.table:group~hash</c>: the token of one insert that carries ranges of several partitions into one
    /// table (<see cref="InsertGroups"/>); the hash names every member's state key, range and nonce, so it never names
    /// different data. It is round 0 of each member's range; later rounds are the member's own (<see cref="ForData"/>).
    /// </summary>
    public static string ForGroup(TokenScope scope, string table, ulong group)
    {
        ArgumentNullException.ThrowIfNull(scope);
        return string.Create(CultureInfo.InvariantCulture, $"{scope.SinkId}:{scope.SourceHash}:{table}:group~{group:x16}");
    }

    /// <summary>The token of the dead letters that belong to a data insert.</summary>
    public static string ForDeadLetters(string dataToken) => "dlq:" + dataToken;

    /// <summary>The token of one half when an insert is split to find a bad row the server did not name.</summary>
    public static string ForHalf(string token, int half) => token + "/" + half.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What every token of one partition state shares: sink, source, nonce, and whether the state predates sources.</summary>
public sealed record TokenScope(string SinkId, string SourceHash, ulong Nonce, bool Legacy);
