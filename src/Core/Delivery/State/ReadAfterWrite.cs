using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Delivery.State;

/// <summary>
/// What a table engine guarantees to the sink's reads that decide what to insert (state read, presence probes,
/// dead-letter checks), all sent with <c>select_sequential_consistency = 1</c>. Pure; see docs/exactly-once.md.
/// </summary>
public static class ReadAfterWrite
{
    /// <summary>MergeTree family (one server), Replicated* or Shared* (ClickHouse Cloud), else other.</summary>
    public static string FamilyOf(string engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return engine.StartsWith("Shared", StringComparison.Ordinal) ? "shared"
            : engine.StartsWith("Replicated", StringComparison.Ordinal) ? "replicated"
            : engine.EndsWith("MergeTree", StringComparison.Ordinal) ? "mergetree"
            : "other";
    }

    /// <summary>The log level and sentence for an engine.</summary>
    public static (LogLevel Level, string Guarantee) Of(string engine) => FamilyOf(engine) switch
    {
        "shared" => (LogLevel.Information, "read-after-write: reads are sent with select_sequential_consistency=1, which makes the serving replica catch up with every acknowledged insert first"),
        "replicated" => (LogLevel.Warning, "read-after-write only for quorum inserts: the sink writes its state with insert_quorum=auto and reads with select_sequential_consistency=1; target and dead-letter tables need insert_quorum in CLICKHOUSE_SETTINGS (or one replica serving all reads) for the presence probes to be exact"),
        "mergetree" => (LogLevel.Information, "read-after-write: one server sees every acknowledged insert (select_sequential_consistency is accepted and has no effect)"),
        _ => (LogLevel.Warning, "no read-after-write guarantee is known for this engine: use a MergeTree-family engine"),
    };
}
