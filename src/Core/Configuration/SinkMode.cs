namespace MskClickHouse.Core.Configuration;

/// <summary>
/// What the bootstrap does (SINK_MODE). One binary, three functions in template.yaml: the sink behind the event-source
/// mapping, the completeness audit on a schedule, and the dead-letter replay invoked by hand (docs/operations.md).
/// </summary>
public enum SinkMode
{
    /// <summary>Lands MSK record batches in ClickHouse (the default).</summary>
    Sink,

    /// <summary>Checks the delivered offsets of tables with offset columns for duplicates and missing records.</summary>
    Audit,

    /// <summary>Re-inserts dead letters under tokens derived from their original identity.</summary>
    Replay,
}
