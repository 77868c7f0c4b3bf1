namespace MskClickHouse.DevHarness;

/// <summary>
/// DDL of the demo and test tables: a value's columns plus the sink's metadata columns (docs/configuration.md,
/// "Metadata columns"), ordered by offset and deduplicating retried inserts.
/// </summary>
public static class MetadataDdl
{
    /// <summary>The six metadata columns most tables carry (all but <c>_timestamp_type</c>).</summary>
    public const string Columns = "_topic String, _partition Int32, _offset Int64, _timestamp DateTime64(3, 'UTC'), _key Nullable(String), _headers Map(String, String)";

    /// <summary>
    /// <c>CREATE TABLE {database}.{table} ({valueColumns}, metadata columns) ENGINE = MergeTree ORDER BY (_topic, _partition, _offset)</c>
    /// with <c>non_replicated_deduplication_window = {window}</c> (the sink's tokens need a window on a non-replicated table).
    /// </summary>
    public static string Table(string database, string table, string valueColumns, int window = 1000, bool ifNotExists = false) =>
        $"CREATE TABLE {(ifNotExists ? "IF NOT EXISTS " : string.Empty)}{database}.{table} ({valueColumns}, {Columns}) " +
        $"ENGINE = MergeTree ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = {window}";
}
