using MskClickHouse.DevHarness;
using MskClickHouse.TestSupport;

[assembly: AssemblyFixture(typeof(ClickHouseFixture))]

namespace MskClickHouse.Function.Tests;

/// <summary>The environment the bootstrap needs to reach the embedded ClickHouse, one database per test.</summary>
internal static class SinkEnvironment
{
    public static Dictionary<string, string?> For(ClickHouseFixture clickHouse, string database) =>
        FunctionEnvironment.For(clickHouse.Server.Client, database, "e2e-sink");

    /// <summary>A table with the sink's metadata columns, deduplicating retried inserts.</summary>
    public static string MetadataTable(string database, string table, string valueColumns) =>
        MetadataDdl.Table(database, table, valueColumns);
}
