namespace MskClickHouse.Core.Replay;

/// <summary>What a replay did with one dead letter.</summary>
public enum ReplayOutcomeKind
{
    /// <summary>Inserted under its replay token (or dropped by the table as a repeat of that token: landed either way).</summary>
    Landed,

    /// <summary>The target table (with offset columns) already holds the offset: nothing was inserted.</summary>
    AlreadyPresent,

    /// <summary>A tombstone, which the sink now skips (TOMBSTONES=skip): nothing to insert.</summary>
    TombstoneSkipped,

    /// <summary>Rejected again (by the encoder or by ClickHouse): a new dead letter of the next generation holds it.</summary>
    Failed,
}

/// <summary>The outcome of one dead letter; <see cref="Reason"/> is set for <see cref="ReplayOutcomeKind.Failed"/>.</summary>
public sealed record ReplayOutcome(DeadLetterRecord Letter, ReplayOutcomeKind Kind, string? Reason = null);
