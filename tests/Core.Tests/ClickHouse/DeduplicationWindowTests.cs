using MskClickHouse.Core.ClickHouse;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.ClickHouse;

/// <summary>The deduplication window the sink reads from the table and the server, and the warning it gives.</summary>
public class DeduplicationWindowTests(ClickHouseFixture fixture)
{
    private static readonly Dictionary<string, long> Defaults = new()
    {
        ["non_replicated_deduplication_window"] = 0,
        ["replicated_deduplication_window"] = 10000,
        ["replicated_deduplication_window_seconds"] = 3600,
    };

    [Theory]
    [InlineData("MergeTree", "CREATE TABLE t (a Int32) ENGINE = MergeTree ORDER BY a", 0L, null)]
    [InlineData("MergeTree", "CREATE TABLE t (a Int32) ENGINE = MergeTree ORDER BY a SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000", 1000L, null)]
    [InlineData("ReplacingMergeTree", "CREATE TABLE t (a Int32) ENGINE = ReplacingMergeTree ORDER BY a SETTINGS non_replicated_deduplication_window = 7", 7L, null)]
    [InlineData("ReplicatedMergeTree", "CREATE TABLE t (a Int32) ENGINE = ReplicatedMergeTree('/p', 'r') ORDER BY a", 10000L, 3600L)]
    [InlineData("SharedMergeTree", "CREATE TABLE t (a Int32) ENGINE = SharedMergeTree ORDER BY a SETTINGS replicated_deduplication_window = 50, replicated_deduplication_window_seconds = 60", 50L, 60L)]
    [InlineData("Memory", "CREATE TABLE t (a Int32) ENGINE = Memory", 0L, null)]
    public void Window_FromTableSettingsElseServerDefaults(string engine, string create, long blocks, long? seconds) =>
        Assert.Equal((blocks, seconds), TableCatalog.Window(engine, create, Defaults));

    [Fact]
    public void Assess_WindowSmallerThanTheBlocksARetryReachesBackAcross_Warns()
    {
        var table = new TableName("db", "t");
        Assert.Null(DeduplicationWindowCheck.Assess(new TableInfo(table, true, [], "MergeTree", 1000), partitions: 12));
        Assert.Contains("only 100 blocks", DeduplicationWindowCheck.Assess(new TableInfo(table, true, [], "MergeTree", 100), partitions: 12), StringComparison.Ordinal);
        Assert.Contains("cannot deduplicate", DeduplicationWindowCheck.Assess(new TableInfo(table, true, [], "MergeTree", 0), partitions: 1), StringComparison.Ordinal);
        Assert.Equal(12 * DeduplicationWindowCheck.InvocationsBeforeRetry * DeduplicationWindowCheck.BlocksPerInsert, DeduplicationWindowCheck.BlocksNeeded(12));
    }

    [Fact]
    public async Task Catalog_ReadsTheWindowTheEngineReports()
    {
        var db = await fixture.CreateDatabaseAsync("win", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.none (a Int32) ENGINE = MergeTree ORDER BY a", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.small (a Int32) ENGINE = MergeTree ORDER BY a SETTINGS non_replicated_deduplication_window = 5", TestContext.Current.CancellationToken);
        using var gateway = new DriverClickHouseGateway(new MskClickHouse.Core.Configuration.SinkOptions
        {
            ClickHouseUrl = fixture.Server.BaseUri,
            User = fixture.Server.User,
            Password = fixture.Server.Password,
            DeadLetterTable = new TableName(db, "dlq"),
            StateTable = new TableName(db, "state"),
            SinkId = "w",
        }.Connection);
        var catalog = new TableCatalog(gateway);

        var none = await catalog.GetAsync(new TableName(db, "none"), TestContext.Current.CancellationToken);
        var small = await catalog.GetAsync(new TableName(db, "small"), TestContext.Current.CancellationToken);

        Assert.Equal(0, none.DeduplicationWindow);
        Assert.False(none.CanDeduplicate);
        Assert.Equal(5, small.DeduplicationWindow);
        Assert.Contains("only 5 blocks", DeduplicationWindowCheck.Assess(small, 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartUp_DeadLetterTableWithoutWindow_Warns()
    {
        var db = await fixture.CreateDatabaseAsync("win", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.kafka_dead_letters (sink_id String, topic String, partition Int32, offset Int64, timestamp DateTime64(3, 'UTC'), key Nullable(String), value Nullable(String), headers Map(String, String), target_table String, error String, failed_at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY offset", TestContext.Current.CancellationToken);
        var log = new MskClickHouse.Core.Tests.Delivery.RecordingLog();
        var options = new MskClickHouse.Core.Configuration.SinkOptions
        {
            ClickHouseUrl = fixture.Server.BaseUri,
            User = fixture.Server.User,
            Password = fixture.Server.Password,
            Database = db,
            DeadLetterTable = new TableName(db, "kafka_dead_letters"),
            StateTable = new TableName(db, "kafka_sink_state"),
            SinkId = "w",
        };
        using var gateway = new DriverClickHouseGateway(options.Connection);

        await MskClickHouse.Core.Hosting.SinkHandlerFactory.CreateAsync(options, gateway, log, new MskClickHouse.Core.Tests.Delivery.RecordingMetrics(), TimeProvider.System, TestContext.Current.CancellationToken);

        Assert.Contains(log.Lines, l => l.Message.StartsWith("dead-letter table", StringComparison.Ordinal) && l.Message.Contains("cannot deduplicate", StringComparison.Ordinal));
    }
}
