using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.ClickHouse;

/// <summary>
/// What the engine (chDB, ClickHouse 26.7) does with the topologies users build around a target table: materialized
/// views on it, a Null landing table, ReplacingMergeTree, no deduplication window, per-query limits. Every insert goes
/// through the sink's own gateway, so the class each answer gets is the one delivery sees.
/// </summary>
public sealed class TopologyEngineTests(ClickHouseFixture fixture) : IDisposable
{
    private const string TwoRows = "{\"v\":1,\"_offset\":0}\n{\"v\":13,\"_offset\":1}\n";

    private readonly DriverClickHouseGateway _gateway = new(new SinkOptions
    {
        ClickHouseUrl = fixture.Server.BaseUri,
        User = fixture.Server.User,
        Password = fixture.Server.Password,
        DeadLetterTable = new TableName("default", "dlq"),
        StateTable = new TableName("default", "state"),
        SinkId = "topologies",
    }.Connection);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _gateway.Dispose();

    [Fact]
    public async Task ViewThatThrows_TheTargetsBlockIsCommitted_YetTheInsertAnswersAViewErrorWithoutARow()
    {
        var db = await TargetWithViewAsync("throwIf(v = 13, 'view rejects 13') + v");

        var e = await Assert.ThrowsAsync<ClickHouseException>(() => InsertAsync($"{db}.t", TwoRows, "tok"));

        Assert.Equal(395, e.ServerCode);
        Assert.Null(e.RowNumber);
        Assert.Equal(ClickHouseErrorKind.ViewRejected, e.Kind);
        Assert.False(e.IsRetryable);
        Assert.Contains($"materialized view {db}.mv rejected the block", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, await CountAsync($"{db}.t"));
        Assert.Equal(0, await CountAsync($"{db}.s"));

        // The same token again: the table drops the block, the view still runs and throws again.
        await Assert.ThrowsAsync<ClickHouseException>(() => InsertAsync($"{db}.t", TwoRows, "tok"));
        Assert.Equal(2, await CountAsync($"{db}.t"));
        Assert.Equal(0, await CountAsync($"{db}.s"));
    }

    [Fact]
    public async Task ViewFailingTransiently_TheSameTokenAfterTheFix_LandsTheViewsRowsOnce()
    {
        var db = await TargetWithViewAsync("throwIf(v = 13, 'view rejects 13') + v");
        await Assert.ThrowsAsync<ClickHouseException>(() => InsertAsync($"{db}.t", TwoRows, "tok"));

        await fixture.Server.QueryAsync($"DROP VIEW {db}.mv", Ct);
        await fixture.Server.QueryAsync($"CREATE MATERIALIZED VIEW {db}.mv TO {db}.s AS SELECT v, _offset FROM {db}.t", Ct);
        await InsertAsync($"{db}.t", TwoRows, "tok");
        await InsertAsync($"{db}.t", TwoRows, "tok");

        // The table deduplicated the block, yet the view ran for it: a presence probe of the table alone would have
        // found both offsets and sent nothing, leaving the view's table empty.
        Assert.Equal(2, await CountAsync($"{db}.t"));
        Assert.Equal(2, await CountAsync($"{db}.s"));
    }

    [Fact]
    public async Task ViewFailedOnARange_APartReSentUnderItsToken_SpendsTheViewsToken_TheRestNeverReachesTheView()
    {
        var db = await TargetWithViewAsync("throwIf(v = 13, 'view rejects 13') + v");
        await Assert.ThrowsAsync<ClickHouseException>(() => InsertAsync($"{db}.t", TwoRows, "tok"));
        await FixViewAsync(db);

        await InsertAsync($"{db}.t", "{\"v\":1,\"_offset\":0}\n", "tok");
        await InsertAsync($"{db}.t", "{\"v\":13,\"_offset\":1}\n", "tok");

        Assert.Equal(2, await CountAsync($"{db}.t"));
        Assert.Equal(1, await CountAsync($"{db}.s"));
    }

    [Fact]
    public async Task ViewFailedOnARange_TheRangeReSentFromTheTableUnderItsToken_ReachesTheViewOnce_AndTheTableDropsIt()
    {
        var db = await TargetWithViewAsync("throwIf(v = 13, 'view rejects 13') + v");
        await InsertAsync($"{db}.t", "{\"v\":7,\"_offset\":100}\n", "other");
        await Assert.ThrowsAsync<ClickHouseException>(() => InsertAsync($"{db}.t", TwoRows, "tok"));
        await FixViewAsync(db);

        // What ViewRefill sends, three times (a redelivery each); ORDER BY makes the INSERT SELECT deduplicable.
        var settings = new Dictionary<string, string> { ["insert_deduplication_token"] = "tok", ["deduplicate_blocks_in_dependent_materialized_views"] = "1" };
        for (var i = 0; i < 3; i++)
        {
            await _gateway.ExecuteAsync($"INSERT INTO {db}.t SELECT * FROM {db}.t WHERE _offset BETWEEN 0 AND 1 AND (SELECT count() = uniqExact(_offset) FROM {db}.t WHERE _offset BETWEEN 0 AND 1) ORDER BY _offset", settings, Ct);
        }

        Assert.Equal(3, await CountAsync($"{db}.t"));
        Assert.Equal(3, await CountAsync($"{db}.s"));
        Assert.Equal(2, await fixture.Server.Client.CountAsync($"{db}.s WHERE _offset IN (0, 1)", Ct));
    }

    [Fact]
    public async Task ViewWithATypeError_AnswersADataCodeWithoutARow_ClassifiedAsTheViews()
    {
        var db = await TargetWithViewAsync("toInt64(toString(v) || if(v = 13, 'x', ''))");

        var e = await Assert.ThrowsAsync<ClickHouseException>(() => InsertAsync($"{db}.t", TwoRows, "tok"));

        Assert.Equal(6, e.ServerCode);
        Assert.Null(e.RowNumber);
        Assert.Equal(ClickHouseErrorKind.ViewRejected, e.Kind);
        Assert.Equal($"{db}.mv", ClickHouseErrors.ViewOf(e.Message));
        Assert.Equal(2, await CountAsync($"{db}.t"));
    }

    [Theory]
    [InlineData(null, 2)]
    [InlineData("1", 2)]
    [InlineData("0", 6)]
    public async Task DependentViewDeduplication_DefaultsToOn_AndOnlyOnKeepsTheViewsTableAtOneCopy(string? setting, long viewRows)
    {
        var db = await TargetWithViewAsync("v");
        var settings = setting is null ? null : new Dictionary<string, string> { ["deduplicate_blocks_in_dependent_materialized_views"] = setting };

        for (var i = 0; i < 3; i++)
        {
            await InsertAsync($"{db}.t", TwoRows, "tok", settings);
        }

        Assert.Equal("1", (await fixture.Server.QueryAsync("SELECT value FROM system.settings WHERE name = 'deduplicate_blocks_in_dependent_materialized_views'", Ct)).Trim());
        Assert.Equal(2, await CountAsync($"{db}.t"));
        Assert.Equal(viewRows, await CountAsync($"{db}.s"));
    }

    [Fact]
    public async Task NullLandingTable_KeepsNothing_TheTokenProtectsTheViewsTable_ANewTokenLandsAgain()
    {
        var db = await fixture.CreateDatabaseAsync("topo", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.t (v Int64, _offset Int64) ENGINE = Null", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.s (v Int64, _offset Int64) ENGINE = MergeTree ORDER BY _offset SETTINGS non_replicated_deduplication_window = 100", Ct);
        await fixture.Server.QueryAsync($"CREATE MATERIALIZED VIEW {db}.mv TO {db}.s AS SELECT v, _offset FROM {db}.t", Ct);
        var dependent = new Dictionary<string, string> { ["deduplicate_blocks_in_dependent_materialized_views"] = "1" };

        await InsertAsync($"{db}.t", TwoRows, "tok", dependent);
        await InsertAsync($"{db}.t", TwoRows, "tok", dependent);
        Assert.Equal(0, await CountAsync($"{db}.t"));
        Assert.Equal(2, await CountAsync($"{db}.s"));

        await InsertAsync($"{db}.t", TwoRows, "other", dependent);
        Assert.Equal(4, await CountAsync($"{db}.s"));

        var info = await new TableCatalog(_gateway).GetAsync(new TableName(db, "t"), Ct);
        Assert.Equal("Null", info.Engine);
        Assert.False(info.StoresRows);
        Assert.False(info.CanDeduplicate);
        Assert.True(info.HasMaterializedViews);
        Assert.Equal([new DependentView(new TableName(db, "mv"), "MaterializedView", new TableName(db, "s"), $"SELECT v, _offset FROM {db}.t")], info.Views);
    }

    [Fact]
    public async Task NoDeduplicationWindow_TheSameTokenLandsAgain_ReplacingMergeTreeHidesItOnlyUnderFinal()
    {
        var db = await fixture.CreateDatabaseAsync("topo", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.plain (v Int64, _offset Int64) ENGINE = MergeTree ORDER BY _offset SETTINGS non_replicated_deduplication_window = 0", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.rmt (v Int64, _offset Int64) ENGINE = ReplacingMergeTree ORDER BY _offset SETTINGS non_replicated_deduplication_window = 0", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.rmt_window (v Int64, _offset Int64) ENGINE = ReplacingMergeTree ORDER BY _offset SETTINGS non_replicated_deduplication_window = 100", Ct);

        foreach (var table in (string[])["plain", "rmt", "rmt_window"])
        {
            await InsertAsync($"{db}.{table}", TwoRows, "tok");
            await InsertAsync($"{db}.{table}", TwoRows, "tok");
        }

        Assert.Equal(4, await CountAsync($"{db}.plain"));
        Assert.Equal(4, await CountAsync($"{db}.rmt"));
        Assert.Equal(2, await fixture.Server.Client.ScalarAsync($"SELECT count() FROM {db}.rmt FINAL", Ct));
        Assert.Equal(2, await CountAsync($"{db}.rmt_window"));

        var catalog = new TableCatalog(_gateway);
        var rmt = await catalog.GetAsync(new TableName(db, "rmt"), Ct);
        Assert.True(rmt.StoresRows);
        Assert.False(rmt.CanDeduplicate);
        Assert.Empty(rmt.Views);
    }

    [Fact]
    public async Task QueryMemoryLimit_Code241NamingTheQuery_IsAQueryLimitWithoutARow()
    {
        var db = await fixture.CreateDatabaseAsync("topo", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.t (v Int64, _offset Int64) ENGINE = MergeTree ORDER BY _offset", Ct);
        var rows = new StringBuilder();
        for (var i = 0; i < 20_000; i++)
        {
            rows.Append("{\"v\":").Append(i).Append(",\"_offset\":").Append(i).Append("}\n");
        }

        var e = await Assert.ThrowsAsync<ClickHouseException>(() => InsertAsync(
            $"{db}.t", rows.ToString(), "tok", new Dictionary<string, string> { ["max_memory_usage"] = "100000", ["max_untracked_memory"] = "0" }));

        Assert.Equal(241, e.ServerCode);
        Assert.Contains("Query memory limit exceeded", e.Message, StringComparison.Ordinal);
        Assert.Null(e.RowNumber);
        Assert.Equal(ClickHouseErrorKind.QueryLimit, e.Kind);
        Assert.False(e.IsRetryable);
        Assert.Contains("per-query limit", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync($"{db}.t"));
    }

    [Fact]
    public async Task ExecutionTimeLimit_Code159_IsAQueryLimit_AndASlowViewStillLeavesTheTablesBlockCommitted()
    {
        var db = await fixture.CreateDatabaseAsync("topo", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.t (v Int64, _offset Int64) ENGINE = MergeTree ORDER BY _offset", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.s (v Int64, _offset Int64) ENGINE = MergeTree ORDER BY _offset", Ct);

        // Each row sleeps 0.6 s in the view: two rows pass max_execution_time = 1 s however loaded the machine is.
        await fixture.Server.QueryAsync($"CREATE MATERIALIZED VIEW {db}.mv TO {db}.s AS SELECT v + sleepEachRow(0.6) AS v, _offset FROM {db}.t", Ct);

        var e = await Assert.ThrowsAsync<ClickHouseException>(() => InsertAsync(
            $"{db}.t", TwoRows, "tok", new Dictionary<string, string> { ["max_execution_time"] = "1" }));

        Assert.Equal(159, e.ServerCode);
        Assert.Equal(ClickHouseErrorKind.QueryLimit, e.Kind);
        Assert.False(e.IsRetryable);
        Assert.Equal(2, await CountAsync($"{db}.t"));
        Assert.Equal(0, await CountAsync($"{db}.s"));
    }

    [Theory]
    [InlineData(286, "UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE", ClickHouseErrorKind.Transient)]
    [InlineData(289, "REPLICA_IS_NOT_IN_QUORUM", ClickHouseErrorKind.Transient)]
    [InlineData(285, "TOO_FEW_LIVE_REPLICAS", ClickHouseErrorKind.Transient)]
    [InlineData(159, "TIMEOUT_EXCEEDED", ClickHouseErrorKind.QueryLimit)]
    [InlineData(158, "TOO_MANY_ROWS", ClickHouseErrorKind.QueryLimit)]
    [InlineData(307, "TOO_MANY_BYTES", ClickHouseErrorKind.QueryLimit)]
    [InlineData(396, "TOO_MANY_ROWS_OR_BYTES", ClickHouseErrorKind.QueryLimit)]
    [InlineData(160, "TOO_SLOW", ClickHouseErrorKind.QueryLimit)]
    [InlineData(290, "LIMIT_EXCEEDED", ClickHouseErrorKind.QueryLimit)]
    public async Task CodesThatNeedAClusterOrALimit_AreTheEnginesNames_AndClassified(int code, string name, ClickHouseErrorKind kind)
    {
        // The embedded engine has no replicas to lose a quorum with: the code's meaning is recorded from its own table.
        Assert.Equal(name, (await fixture.Server.QueryAsync($"SELECT errorCodeToName({code})", Ct)).Trim());
        Assert.Equal(kind, ClickHouseErrors.Classify(code, $"Code: {code}. DB::Exception: something. ({name})"));
    }

    [Fact]
    public async Task Catalog_FindsEveryViewAndItsTable_AndSeesANewViewAfterTheRefreshInterval()
    {
        var db = await fixture.CreateDatabaseAsync("topo", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.t (v Int64, _offset Int64) ENGINE = MergeTree ORDER BY _offset", Ct);
        var time = new ManualTime(DateTimeOffset.UnixEpoch);
        var catalog = new TableCatalog(_gateway, time);
        var table = new TableName(db, "t");
        Assert.Empty((await catalog.GetAsync(table, Ct)).Views);

        await fixture.Server.QueryAsync($"CREATE TABLE {db}.s (v Int64, _offset Int64) ENGINE = MergeTree ORDER BY _offset", Ct);
        await fixture.Server.QueryAsync($"CREATE MATERIALIZED VIEW {db}.to_s TO {db}.s AS SELECT v, _offset FROM {db}.t", Ct);
        await fixture.Server.QueryAsync($"CREATE MATERIALIZED VIEW {db}.inner ENGINE = MergeTree ORDER BY _offset AS SELECT v, _offset FROM {db}.t", Ct);
        await fixture.Server.QueryAsync($"CREATE VIEW {db}.plain AS SELECT v FROM {db}.t", Ct);

        time.Now += TableCatalog.RefreshInterval - TimeSpan.FromSeconds(1);
        Assert.Empty((await catalog.GetAsync(table, Ct)).Views);
        time.Now += TimeSpan.FromSeconds(1);
        var info = await catalog.GetAsync(table, Ct);

        Assert.Equal(["inner", "to_s"], info.Views.Select(v => v.View.Table));
        Assert.All(info.Views, v => Assert.True(v.IsMaterialized));
        Assert.Equal(new TableName(db, "s"), info.Views[1].Target);
        Assert.StartsWith(".inner_id.", info.Views[0].Target!.Table, StringComparison.Ordinal);
        Assert.True(info.HasMaterializedViews);
        Assert.True(info.StoresRows);
    }

    [Theory]
    [InlineData("SELECT id, n, _topic, _partition, _offset, _timestamp FROM db.landing", true)]
    [InlineData("SELECT * FROM db.landing", true)]
    [InlineData("SELECT id, n + 1 AS n, _topic, _partition, _offset FROM db.landing", true)]
    [InlineData("SELECT id, _topic, _partition, _offset + 1 AS _offset FROM db.landing", false)]
    [InlineData("SELECT id, _topic, _partition FROM db.landing", false)]
    [InlineData("SELECT id, _topic, _partition, _offset FROM db.landing WHERE n > 0", false)]
    [InlineData("SELECT _topic, _partition, _offset, count() AS c FROM db.landing GROUP BY _topic, _partition, _offset", false)]
    [InlineData("SELECT _topic, _partition, _offset, x FROM db.landing ARRAY JOIN xs AS x", false)]
    public void PassesOffsetsThrough_OnlyAPlainProjectionOfTheOffsetColumns(string select, bool passes)
    {
        var view = new DependentView(new TableName("db", "v"), "MaterializedView", new TableName("db", "stored"), select);
        Assert.Equal(passes, view.PassesOffsetsThrough);
        var landing = new TableInfo(new TableName("db", "landing"), true, [], "Null") { Views = [view] };
        Assert.Equal(passes ? new TableName("db", "stored") : null, landing.StoredBehind);
        Assert.Null((landing with { Engine = "MergeTree" }).StoredBehind);
        Assert.Null((landing with { Views = [view, view with { View = new TableName("db", "w") }] }).StoredBehind);
    }

    [Fact]
    public void Shape_NullLandingAnswersThroughTheStoredTableBehindItsView_OtherEnginesThatKeepNothingNowhere()
    {
        var landing = new TableName("db", "landing");
        var stored = new TableName("db", "stored");
        var shape = new MskClickHouse.Core.Rows.TableShape(landing, MskClickHouse.Core.Events.MetadataColumnSets.ClickPipes, ValueFormat.Json, "raw");
        var view = new DependentView(new TableName("db", "v"), "MaterializedView", stored, "SELECT id, _topic, _partition, _offset FROM db.landing");
        var nullLanding = new TableInfo(landing, true, [], "Null") { Views = [view] };
        var storedInfo = new TableInfo(stored, true, ["id", "_topic", "_partition", "_offset", "_timestamp"], "MergeTree", 1000);

        var through = shape.WithTopology(nullLanding, storedInfo);
        Assert.True(through.CanProbe);
        Assert.True(through.HasMaterializedViews);
        Assert.Equal(stored, through.PresenceTable);

        // The view does not pass _timestamp: presence there matches by offset only.
        Assert.Equal(MskClickHouse.Core.Events.MetadataColumns.Topic | MskClickHouse.Core.Events.MetadataColumns.Partition | MskClickHouse.Core.Events.MetadataColumns.Offset, through.PresenceMetadata);

        Assert.False(shape.WithTopology(nullLanding, storedInfo with { Engine = "Null" }).CanProbe);
        Assert.False(shape.WithTopology(nullLanding with { Views = [] }, null).CanProbe);
        Assert.False(shape.WithTopology(new TableInfo(landing, true, [], "Buffer"), null).CanProbe);
        var direct = shape.WithTopology(new TableInfo(landing, true, [], "ReplacingMergeTree"), null);
        Assert.True(direct.CanProbe);
        Assert.Equal(landing, direct.PresenceTable);
        Assert.False(direct.HasMaterializedViews);
    }

    [Theory]
    [InlineData("MergeTree", true)]
    [InlineData("ReplicatedReplacingMergeTree", true)]
    [InlineData("SharedMergeTree", true)]
    [InlineData("Memory", true)]
    [InlineData("Null", false)]
    [InlineData("Buffer", false)]
    [InlineData("Distributed", false)]
    [InlineData("Merge", false)]
    [InlineData("MaterializedView", false)]
    [InlineData("Kafka", false)]
    public void StoresRows_OnlyForEnginesAReadSeesRightAfterTheInsert(string engine, bool stores) =>
        Assert.Equal(stores, TableEngines.StoresRows(engine));

    private async Task<string> TargetWithViewAsync(string viewExpression)
    {
        var db = await fixture.CreateDatabaseAsync("topo", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.t (v Int64, _offset Int64) ENGINE = MergeTree ORDER BY _offset SETTINGS non_replicated_deduplication_window = 100", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.s (v Int64, _offset Int64) ENGINE = MergeTree ORDER BY _offset SETTINGS non_replicated_deduplication_window = 100", Ct);
        await fixture.Server.QueryAsync($"CREATE MATERIALIZED VIEW {db}.mv TO {db}.s AS SELECT {viewExpression} AS v, _offset FROM {db}.t", Ct);
        return db;
    }

    private Task<InsertResult> InsertAsync(string table, string rows, string token, IReadOnlyDictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string>(extra ?? new Dictionary<string, string>()) { ["insert_deduplication_token"] = token };
        return _gateway.InsertAsync($"INSERT INTO {table} FORMAT JSONEachRow", [Encoding.UTF8.GetBytes(rows)], settings, Ct);
    }

    private Task<long> CountAsync(string table) => fixture.Server.Client.CountAsync(table, Ct);

    /// <summary>Recreates the view of <see cref="TargetWithViewAsync"/> without its throw.</summary>
    private async Task FixViewAsync(string db)
    {
        await fixture.Server.QueryAsync($"DROP VIEW {db}.mv", Ct);
        await fixture.Server.QueryAsync($"CREATE MATERIALIZED VIEW {db}.mv TO {db}.s AS SELECT v, _offset FROM {db}.t", Ct);
    }

    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
