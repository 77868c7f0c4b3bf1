namespace MskClickHouse.Core.Configuration;

/// <summary>What to do with a record whose value is null (a Kafka tombstone).</summary>
public enum TombstonePolicy
{
    /// <summary>Count it and skip it.</summary>
    Skip,

    /// <summary>Write it to the dead-letter table.</summary>
    DeadLetter,
}
