using MskClickHouse.Bench.EndToEnd;
using MskClickHouse.Bench.EndToEnd.Sections;
using MskClickHouse.DevHarness;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Bench.Tests;

/// <summary>
/// What the bench counts as parts, checked on the engine: one INSERT carrying the rows of many Kafka partitions creates
/// one part per table partition it touches, and uses one block number per part (what the scale section reads).
/// Requests are counted at the bench's proxy because the engine keeps no query log.
/// </summary>
public sealed class PartsPerInsertTests(ClickHouseFixture clickHouse)
{
    [Fact]
    public async Task OneInsertOfEightKafkaPartitions_IntoANonPartitionedMergeTree_CreatesOnePart()
    {
        var (parts, blocks) = await InsertEightPartitionsAsync(partitionBy: null);
        Assert.Equal(1, parts);
        Assert.Equal(1, blocks);
    }

    [Fact]
    public async Task OneInsertOfEightKafkaPartitions_IntoATablePartitionedByKafkaPartition_CreatesOnePartPerTablePartition()
    {
        var (parts, blocks) = await InsertEightPartitionsAsync(partitionBy: "_partition");
        Assert.Equal(8, parts);
        Assert.Equal(8, blocks);
    }

    /// <summary>Why requests are counted at a proxy: the embedded engine keeps no system.query_log (nor any system *_log table).</summary>
    [Fact]
    public async Task EmbeddedEngine_KeepsNoQueryLog()
    {
        var ct = TestContext.Current.CancellationToken;
        using var engine = new EngineClient(clickHouse.Server.BaseUri, clickHouse.Server.User, clickHouse.Server.Password);
        await engine.QueryAsync("SYSTEM FLUSH LOGS", ct);
        Assert.Equal(0, await engine.ScalarAsync("SELECT count() FROM system.tables WHERE database = 'system' AND name LIKE '%log%'", ct));
        var e = await Assert.ThrowsAsync<EngineQueryException>(() => engine.QueryAsync("SELECT count() FROM system.query_log", ct));
        Assert.Contains("UNKNOWN_TABLE", e.Message, StringComparison.Ordinal);
    }

    private async Task<(long Parts, long Blocks)> InsertEightPartitionsAsync(string? partitionBy)
    {
        var ct = TestContext.Current.CancellationToken;
        using var engine = new EngineClient(clickHouse.Server.BaseUri, clickHouse.Server.User, clickHouse.Server.Password);
        var db = await clickHouse.CreateDatabaseAsync("parts", ct);
        var ddl = Workload.CreateTable(db, "events");
        if (partitionBy is not null)
        {
            ddl = ddl.Replace(" ORDER BY ", $" PARTITION BY {partitionBy} ORDER BY ", StringComparison.Ordinal);
        }

        await engine.QueryAsync(ddl, ct);
        var events = new ScaleEvents(partitions: 8, records: 10, valueBytes: 80);
        var rows = Workload.Rows(events.Next([0, 1, 2, 3, 4, 5, 6, 7], 10), out var count);
        Assert.Equal(80, count);
        var file = Path.Combine(Path.GetTempPath(), $"parts-{Guid.NewGuid():N}.jsonl");
        try
        {
            await File.WriteAllBytesAsync(file, rows, ct);
            await engine.QueryAsync($"INSERT INTO {db}.events FROM INFILE '{file}' FORMAT JSONEachRow", ct);
        }
        finally
        {
            File.Delete(file);
        }

        Assert.Equal(8, await engine.ScalarAsync($"SELECT uniqExact(_partition) FROM {db}.events", ct));
        var parts = await engine.ScalarAsync($"SELECT count() FROM system.parts WHERE database = '{db}' AND table = 'events' AND active", ct);
        var blocks = (await InvocationAnatomy.BlocksAsync(engine, db, ct))["events"];
        return (parts, blocks);
    }
}
