using MskClickHouse.TestSupport;

[assembly: AssemblyFixture(typeof(ClickHouseFixture))]

namespace MskClickHouse.Function.Tests;

/// <summary>The environment the bootstrap needs to reach the embedded ClickHouse, one database per test.</summary>
internal static class SinkEnvironment
{
    public static Dictionary<string, string?> For(ClickHouseFixture clickHouse, string database) => new()
    {
        ["CLICKHOUSE_URL"] = clickHouse.Server.BaseUri.ToString().TrimEnd('/'),
        ["CLICKHOUSE_ALLOW_HTTP"] = "true",
        ["CLICKHOUSE_USER"] = clickHouse.Server.User,
        ["CLICKHOUSE_PASSWORD"] = clickHouse.Server.Password,
        ["CLICKHOUSE_DATABASE"] = database,
        ["POWERTOOLS_SERVICE_NAME"] = "e2e-sink",
    };

    /// <summary>A table with the sink's metadata columns, deduplicating retried inserts.</summary>
    public static string MetadataTable(string database, string table, string valueColumns) =>
        $"CREATE TABLE {database}.{table} ({valueColumns}, _topic String, _partition Int32, _offset Int64, " +
        "_timestamp DateTime64(3, 'UTC'), _key Nullable(String), _headers Map(String, String)) " +
        "ENGINE = MergeTree ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = 1000";
}
