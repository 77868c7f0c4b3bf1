namespace MskClickHouse.Core.Replay;

/// <summary>One header of a dead letter, its name and value bytes as base64 (they are bytes in the table).</summary>
public readonly record struct DeadLetterHeader(string NameBase64, string ValueBase64);

/// <summary>
/// A dead letter read back for replay: its original identity (source, topic, partition, offset), its generation (0
/// when the sink wrote it, n + 1 when the replay of generation n failed again) and the record as it arrived. Key and
/// value are base64 of the stored bytes (null for a null key or value), so binary values come back byte for byte.
/// </summary>
public sealed record DeadLetterRecord(
    string Source,
    string Topic,
    int Partition,
    long Offset,
    uint Generation,
    long TimestampMs,
    string TimestampType,
    string? KeyBase64,
    string? ValueBase64,
    IReadOnlyList<DeadLetterHeader> Headers,
    string Error);
