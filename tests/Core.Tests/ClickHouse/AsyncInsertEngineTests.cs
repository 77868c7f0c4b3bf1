using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.ClickHouse;

/// <summary>
/// What the engine (chDB, ClickHouse 26.7) does with the settings of INSERT_MODE=async, through the sink's own gateway
/// and <see cref="InsertSettings"/>. The embedded engine has no asynchronous insert queue, so it writes an "async" insert
/// synchronously: these facts show that the sink's async settings are accepted and keep every answer the protocol reads
/// (tokens, errors, read-after-write); what a server's queue does differently is in docs/exactly-once.md, "Insert modes".
/// </summary>
public sealed class AsyncInsertEngineTests(ClickHouseFixture fixture) : IDisposable
{
    private const string TwoRows = "{\"v\":1,\"_offset\":0}\n{\"v\":2,\"_offset\":1}\n";

    private readonly DriverClickHouseGateway _gateway = new(new SinkOptions
    {
        ClickHouseUrl = fixture.Server.BaseUri,
        User = fixture.Server.User,
        Password = fixture.Server.Password,
        DeadLetterTable = new TableName("default", "dlq"),
        StateTable = new TableName("default", "state"),
        SinkId = "async-inserts",
    }.Connection);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _gateway.Dispose();

    [Fact]
    public async Task EmbeddedEngine_HasNoAsyncInsertQueue_AnAsyncInsertIsWrittenBeforeItIsAnswered_AndASequentiallyConsistentReadSeesIt()
    {
        var table = await TableAsync();
        var flush = await Assert.ThrowsAsync<ClickHouseException>(() => _gateway.ExecuteAsync("SYSTEM FLUSH ASYNC INSERT QUEUE", Ct));
        Assert.Equal(36, flush.ServerCode);
        Assert.Contains("not initialized", flush.Message, StringComparison.Ordinal);
        var queued = await ScalarAsync("SELECT sum(value) FROM system.events WHERE event = 'AsyncInsertQuery'");

        await InsertAsync(table, TwoRows, "tok", InsertMode.Async);

        Assert.Equal(2, await ScalarAsync($"SELECT count() FROM {table} SETTINGS select_sequential_consistency = 1"));
        Assert.Equal(queued, await ScalarAsync("SELECT sum(value) FROM system.events WHERE event = 'AsyncInsertQuery'"));
    }

    [Fact]
    public async Task Defaults_Of26_7_DeduplicateBothKindsOfInsert_AndFlushAfterAtMost200MsOr10MiBOr450Inserts()
    {
        var answer = Encoding.UTF8.GetString(await _gateway.QueryAsync(
            "SELECT name, value FROM system.settings WHERE name IN ('deduplicate_insert', 'async_insert_deduplicate', 'wait_for_async_insert', " +
            "'wait_for_async_insert_timeout', 'async_insert_max_data_size', 'async_insert_max_query_number', 'async_insert_use_adaptive_busy_timeout', " +
            "'async_insert_busy_timeout_min_ms', 'async_insert_busy_timeout_max_ms') ORDER BY name FORMAT TSV",
            Ct));
        var settings = answer.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToDictionary(p => p[0], p => p[1]);

        Assert.Equal("enable", settings["deduplicate_insert"]);
        Assert.Equal("0", settings["async_insert_deduplicate"]);
        Assert.Equal("1", settings["wait_for_async_insert"]);
        Assert.Equal("120", settings["wait_for_async_insert_timeout"]);
        Assert.Equal("10485760", settings["async_insert_max_data_size"]);
        Assert.Equal("450", settings["async_insert_max_query_number"]);
        Assert.Equal("1", settings["async_insert_use_adaptive_busy_timeout"]);
        Assert.Equal("50", settings["async_insert_busy_timeout_min_ms"]);
        Assert.Equal("200", settings["async_insert_busy_timeout_max_ms"]);
        Assert.Null(AsyncInsertSupport.Refusal(settings["deduplicate_insert"]));
    }

    [Fact]
    public async Task AsyncSettings_TheSameTokenTwice_KeepsOneCopy_AndTheDuplicateIsAnsweredLikeTheFirst()
    {
        var table = await TableAsync();

        var first = await InsertAsync(table, TwoRows, "tok", InsertMode.Async);
        var second = await InsertAsync(table, TwoRows, "tok", InsertMode.Async);

        Assert.Equal(2, await fixture.Server.Client.CountAsync(table, Ct));
        Assert.Equal(first.WrittenRows, second.WrittenRows);
    }

    [Theory]
    [InlineData(InsertMode.Sync, InsertMode.Async)]
    [InlineData(InsertMode.Async, InsertMode.Sync)]
    public async Task ATokenSpentInOneMode_DropsTheSameTokenInTheOther(InsertMode first, InsertMode then)
    {
        var table = await TableAsync();

        await InsertAsync(table, TwoRows, "tok", first);
        await InsertAsync(table, TwoRows, "tok", then);
        await InsertAsync(table, TwoRows, "other", then);

        Assert.Equal(4, await fixture.Server.Client.CountAsync(table, Ct));
    }

    /// <summary>
    /// The case the fallback's same token is for: an insert that landed in the table yet was answered with an error (here a
    /// view that throws after the table's block is committed; on a server's queue also a wait that timed out).
    /// </summary>
    [Fact]
    public async Task Fallback_AfterAnAsyncInsertThatLandedButAnsweredAnError_TheSynchronousResendIsDroppedByItsToken()
    {
        var db = await fixture.CreateDatabaseAsync("async", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.t (v Int64, _offset Int64) ENGINE = MergeTree ORDER BY _offset SETTINGS non_replicated_deduplication_window = 100", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.s (v Int64, _offset Int64) ENGINE = MergeTree ORDER BY _offset", Ct);
        await fixture.Server.QueryAsync($"CREATE MATERIALIZED VIEW {db}.mv TO {db}.s AS SELECT throwIf(v = 2, 'view rejects 2') + v AS v, _offset FROM {db}.t", Ct);
        var settings = InsertSettings.For(FrozenDictionary<string, string>.Empty, "tok", TwoRows.Length, InsertMode.Async);
        var sent = new List<string>();

        var e = await Assert.ThrowsAsync<ClickHouseException>(() => AsyncInsertFallback.RunAsync(settings, s =>
        {
            sent.Add(s["async_insert"]);
            return _gateway.InsertAsync($"INSERT INTO {db}.t FORMAT JSONEachRow", [Encoding.UTF8.GetBytes(TwoRows)], s, Ct);
        }));

        Assert.Equal(ClickHouseErrorKind.ViewRejected, e.Kind);
        Assert.Equal(["1", "0"], sent);
        Assert.Equal(2, await fixture.Server.Client.CountAsync($"{db}.t", Ct));
    }

    [Fact]
    public async Task AsyncSettings_ADataError_IsAnsweredNamingTheRow_AndNothingOfTheInsertLands()
    {
        var table = await TableAsync();

        var e = await Assert.ThrowsAsync<ClickHouseException>(() => InsertAsync(table, "{\"v\":1,\"_offset\":0}\n{\"v\":\"x\",\"_offset\":1}\n", "tok", InsertMode.Async));

        Assert.Equal(27, e.ServerCode);
        Assert.Equal(ClickHouseErrorKind.Data, e.Kind);
        Assert.Equal(2, e.RowNumber);
        Assert.True(AsyncInsertFallback.FallsBack(e));
        Assert.Equal(0, await fixture.Server.Client.CountAsync(table, Ct));
    }

    [Fact]
    public async Task AsyncSettings_TheSentinelProbe_StillAnswersItsParseError_AndLandsNothing()
    {
        var table = await TableAsync();
        var settings = InsertSettings.For(FrozenDictionary<string, string>.Empty, "probe:tok", 64, InsertMode.Async);

        var e = await Assert.ThrowsAsync<ClickHouseException>(() => _gateway.InsertAsync(
            $"INSERT INTO {table} FORMAT JSONEachRow", [Encoding.UTF8.GetBytes(TwoRows), BadRowIsolation.Sentinel], settings, Ct));

        Assert.Equal(ClickHouseErrorKind.Data, e.Kind);
        Assert.Equal(3, e.RowNumber);
        Assert.Equal(0, await fixture.Server.Client.CountAsync(table, Ct));
    }

    [Fact]
    public async Task DeduplicateInsertDisable_OverridesInsertDeduplicate_TheSameTokenLandsTwice()
    {
        var table = await TableAsync();
        var off = new Dictionary<string, string> { ["deduplicate_insert"] = "disable" }.ToFrozenDictionary(StringComparer.Ordinal);

        foreach (var mode in (InsertMode[])[InsertMode.Sync, InsertMode.Async])
        {
            var settings = InsertSettings.For(off, "tok", 64, mode);
            Assert.Equal("1", settings["insert_deduplicate"]);
            await _gateway.InsertAsync($"INSERT INTO {table} FORMAT JSONEachRow", [Encoding.UTF8.GetBytes(TwoRows)], settings, Ct);
        }

        Assert.Equal(4, await fixture.Server.Client.CountAsync(table, Ct));
        Assert.NotNull(AsyncInsertSupport.Refusal("disable"));
    }

    private async Task<string> TableAsync()
    {
        var db = await fixture.CreateDatabaseAsync("async", Ct);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.t (v Int64, _offset Int64) ENGINE = MergeTree ORDER BY _offset SETTINGS non_replicated_deduplication_window = 100", Ct);
        return $"{db}.t";
    }

    private Task<InsertResult> InsertAsync(string table, string rows, string token, InsertMode mode) =>
        _gateway.InsertAsync($"INSERT INTO {table} FORMAT JSONEachRow", [Encoding.UTF8.GetBytes(rows)], InsertSettings.For(FrozenDictionary<string, string>.Empty, token, rows.Length, mode), Ct);

    private async Task<long> ScalarAsync(string sql) =>
        long.Parse(Encoding.UTF8.GetString(await _gateway.QueryAsync(sql + " FORMAT TSV", Ct)).Trim(), CultureInfo.InvariantCulture);
}
