using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Evolution;

/// <summary>
/// What the embedded engine (chDB 26.7, one process, no Keeper, no clusters) answers to the cluster forms of the
/// evolution DDL: none can run here, which is why the sink issues no ON CLUSTER and leaves Distributed targets alone
/// (docs/schema-evolution.md#clusters).
/// </summary>
public sealed class ClusterDdlEngineTests(ClickHouseFixture clickHouse)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OnCluster_IsRefused_DistributedTablesCannotBeMade_AlterSyncIsAccepted()
    {
        var db = await clickHouse.CreateDatabaseAsync("cluster", Ct);
        await clickHouse.Server.QueryAsync($"CREATE TABLE {db}.local (id Int64) ENGINE = MergeTree ORDER BY id", Ct);

        var onCluster = await Assert.ThrowsAnyAsync<Exception>(() => clickHouse.Server.QueryAsync($"ALTER TABLE {db}.local ON CLUSTER c ADD COLUMN IF NOT EXISTS x Nullable(Int64)", Ct));
        var distributed = await Assert.ThrowsAnyAsync<Exception>(() => clickHouse.Server.QueryAsync($"CREATE TABLE {db}.dist AS {db}.local ENGINE = Distributed('c', '{db}', 'local')", Ct));
        await clickHouse.Server.QueryAsync($"ALTER TABLE {db}.local ADD COLUMN IF NOT EXISTS y Nullable(Int64) SETTINGS alter_sync = 2", Ct);

        Assert.Contains("Code: 392.", onCluster.Message, StringComparison.Ordinal); // QUERY_IS_PROHIBITED: Replicated DDL queries are disabled
        Assert.Contains("Code: 701.", distributed.Message, StringComparison.Ordinal); // CLUSTER_DOESNT_EXIST
        Assert.Equal("id\ny\n", await clickHouse.Server.QueryAsync($"SELECT name FROM system.columns WHERE database = '{db}' AND table = 'local' ORDER BY position FORMAT TSV", Ct));
    }
}
