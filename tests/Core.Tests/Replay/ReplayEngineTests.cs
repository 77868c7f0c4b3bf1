using System.Collections.Frozen;
using System.Text;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Replay;
using MskClickHouse.Core.Runtime;
using MskClickHouse.Core.Tests.Delivery;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Replay;

/// <summary>The replay mode against the embedded engine, on dead letters the real sink wrote.</summary>
public class ReplayEngineTests(ClickHouseFixture fixture)
{
    private const long Ts = 1_764_082_800_000;

    private static SimRecord Order(long offset, string n, string topic = "orders") =>
        new(topic, 0, offset, Ts + offset, Encoding.UTF8.GetBytes("k" + offset), Encoding.UTF8.GetBytes($$"""{"id":"o{{offset}}","n":{{n}},"amount":1.5,"note":"x"}"""), [new("h", [1, 2, 255])]);

    /// <summary>Offsets 0-5 of topic orders, 1 and 4 with a type error (n is UInt32, they send a string).</summary>
    private static byte[] OrdersWithTypeErrors(string topic = "orders") =>
        KafkaEventWriter.Write(Enumerable.Range(0, 6).Select(i => Order(i, i is 1 or 4 ? "\"not-a-number\"" : i.ToString(System.Globalization.CultureInfo.InvariantCulture), topic)));

    private Task<string> Sql(string sql) => fixture.Server.QueryAsync(sql, TestContext.Current.CancellationToken);

    private static async Task<JsonElement> ReplayAsync(IInvocationHandler replay, string payload)
    {
        var context = new InvocationContext(Guid.NewGuid().ToString(), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60), "arn:aws:lambda:us-east-1:123456789012:function:replay", null);
        var answer = await replay.HandleAsync(context, Encoding.UTF8.GetBytes(payload), CancellationToken.None);
        using var doc = JsonDocument.Parse(answer);
        return doc.RootElement.Clone();
    }

    private async Task<(IInvocationHandler Handler, DriverClickHouseGateway Gateway, FaultInjectingHandler Faults)> ReplayerAsync(SinkOptions options)
    {
        var faults = new FaultInjectingHandler(new SocketsHttpHandler(), _ => Fault.None);
        var gateway = new DriverClickHouseGateway(options.Connection, faults);
        return (await ReplayHandlerFactory.CreateAsync(options, gateway, new RecordingLog(), TimeProvider.System, CancellationToken.None), gateway, faults);
    }

    [Fact]
    public async Task Replay_AfterAlterFixesTheType_LandsEachDeadLetterOnce_AndMarksThemReplayed()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var db = h.Database;
        Assert.True((await h.InvokeAsync(OrdersWithTypeErrors())).Succeeded, h.LastError?.ToString());
        Assert.Equal(2, await h.ScalarAsync($"SELECT count() FROM {db}.kafka_dead_letters"));
        var (replay, gateway, _) = await ReplayerAsync(h.Options);
        using var _g = gateway;

        // Before the fix: both fail again and stay dead letters (generation 1) with the engine's new reason.
        var before = await ReplayAsync(replay, $$"""{"table":"{{db}}.events"}""");
        Assert.Equal(2, before.GetProperty("stillFailing").GetInt32());
        Assert.Equal(0, before.GetProperty("replayed").GetInt32());
        Assert.Contains("rejected by ClickHouse", before.GetProperty("failures")[0].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("1\t2\n4\t2\n", await Sql($"SELECT offset, count() FROM {db}.kafka_dead_letters WHERE generation = 1 OR replayed_at IS NOT NULL GROUP BY offset ORDER BY offset FORMAT TSV"));

        await Sql($"ALTER TABLE {db}.events MODIFY COLUMN n String");
        var after = await ReplayAsync(replay, $$"""{"table":"{{db}}.events"}""");

        Assert.Equal(2, after.GetProperty("selected").GetInt32());
        Assert.Equal(2, after.GetProperty("replayed").GetInt32());
        Assert.Equal(0, after.GetProperty("stillFailing").GetInt32());
        Assert.True(after.GetProperty("complete").GetBoolean());
        Assert.Equal("o1\tnot-a-number\tk1\t1\no4\tnot-a-number\tk4\t4\n", await Sql($"SELECT id, n, _key, _offset FROM {db}.events WHERE n = 'not-a-number' ORDER BY _offset FORMAT TSV"));
        Assert.Equal(6, await h.ScalarAsync($"SELECT count() FROM {db}.events"));

        // Never deleted: the 2 dead letters, their 2 successors, and an outcome row for each of the 4.
        Assert.Equal(8, await h.ScalarAsync($"SELECT count() FROM {db}.kafka_dead_letters"));
        Assert.Equal(2, await h.ScalarAsync($"SELECT count() FROM {db}.kafka_dead_letters WHERE replayed_at IS NOT NULL AND replay_error = ''"));

        // Again: nothing pending, nothing inserted.
        var again = await ReplayAsync(replay, $$"""{"table":"{{db}}.events"}""");
        Assert.Equal(0, again.GetProperty("selected").GetInt32());
        Assert.Equal(2, again.GetProperty("alreadyReplayed").GetInt32());
        Assert.Equal(6, await h.ScalarAsync($"SELECT count() FROM {db}.events"));
    }

    [Fact]
    public async Task Replay_TableWithoutOffsetColumns_TwiceConcurrently_LandsEachDeadLetterOnce()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var db = h.Database;
        Assert.True((await h.InvokeAsync(OrdersWithTypeErrors("legacy"))).Succeeded, h.LastError?.ToString());
        await Sql($"ALTER TABLE {db}.plain MODIFY COLUMN n String");
        var (a, ga, _) = await ReplayerAsync(h.Options);
        var (b, gb, _) = await ReplayerAsync(h.Options);
        using var _a = ga;
        using var _b = gb;

        var both = await Task.WhenAll(ReplayAsync(a, $$"""{"table":"{{db}}.plain"}"""), ReplayAsync(b, $$"""{"table":"{{db}}.plain"}"""));

        Assert.All(both, s => Assert.Equal(0, s.GetProperty("stillFailing").GetInt32()));
        Assert.Equal(6, await h.ScalarAsync($"SELECT count() FROM {db}.plain"));
        Assert.Equal(2, await h.ScalarAsync($"SELECT count() FROM {db}.plain WHERE n = 'not-a-number'"));
        var third = await ReplayAsync(a, $$"""{"table":"{{db}}.plain"}""");
        Assert.Equal(0, third.GetProperty("selected").GetInt32());
        Assert.Equal(6, await h.ScalarAsync($"SELECT count() FROM {db}.plain"));
    }

    [Fact]
    public async Task Replay_RetriedAfterItsMarksWereLost_LandsNothingMore()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var db = h.Database;
        Assert.True((await h.InvokeAsync(OrdersWithTypeErrors("legacy"))).Succeeded, h.LastError?.ToString());
        await Sql($"ALTER TABLE {db}.plain MODIFY COLUMN n String");
        var (replay, gateway, faults) = await ReplayerAsync(h.Options);
        using var _g = gateway;

        // The rows land, then every write of the outcome rows is refused: the invocation fails without marks.
        faults.Decide = r => FaultInjectingHandler.IsInsert(r) && FaultInjectingHandler.SqlText(r).Contains("kafka_dead_letters", StringComparison.Ordinal) ? Fault.RefuseBeforeSending : Fault.None;
        var context = new InvocationContext("r1", DateTimeOffset.UtcNow + TimeSpan.FromSeconds(4), "arn", null);
        await Assert.ThrowsAnyAsync<Errors.SinkException>(() => replay.HandleAsync(context, Encoding.UTF8.GetBytes($$"""{"table":"{{db}}.plain"}"""), CancellationToken.None));
        Assert.Equal(6, await h.ScalarAsync($"SELECT count() FROM {db}.plain"));
        Assert.Equal(0, await h.ScalarAsync($"SELECT count() FROM {db}.kafka_dead_letters WHERE replayed_at IS NOT NULL"));

        faults.Decide = _ => Fault.None;
        var retry = await ReplayAsync(replay, $$"""{"table":"{{db}}.plain"}""");

        Assert.Equal(2, retry.GetProperty("replayed").GetInt32());
        Assert.Equal(6, await h.ScalarAsync($"SELECT count() FROM {db}.plain"));
        Assert.Equal(2, await h.ScalarAsync($"SELECT count() FROM {db}.kafka_dead_letters WHERE replayed_at IS NOT NULL"));
    }

    [Fact]
    public async Task Replay_OffsetPresentInTheTable_InsertsNothing_AndSaysAlreadyPresent()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var db = h.Database;
        Assert.True((await h.InvokeAsync(OrdersWithTypeErrors())).Succeeded, h.LastError?.ToString());
        await Sql($"ALTER TABLE {db}.events MODIFY COLUMN n String");

        // Someone re-inserted offset 1 by hand (the old advice): the replay must not add a second copy.
        await Sql($"INSERT INTO {db}.events (id, n, _topic, _partition, _offset) VALUES ('o1', 'by hand', 'orders', 0, 1)");
        var (replay, gateway, _) = await ReplayerAsync(h.Options);
        using var _g = gateway;

        var summary = await ReplayAsync(replay, $$"""{"table":"{{db}}.events","limit":10}""");

        Assert.Equal(1, summary.GetProperty("alreadyPresent").GetInt32());
        Assert.Equal(1, summary.GetProperty("replayed").GetInt32());
        Assert.Equal(1, await h.ScalarAsync($"SELECT count() FROM {db}.events WHERE _offset = 1"));
        Assert.Equal(1, await h.ScalarAsync($"SELECT count() FROM {db}.events WHERE _offset = 4"));
    }

    [Fact]
    public async Task Replay_ErrorContainsAndLimit_TakeOnlyThoseDeadLetters()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var db = h.Database;
        Assert.True((await h.InvokeAsync(OrdersWithTypeErrors())).Succeeded, h.LastError?.ToString());
        await Sql($"ALTER TABLE {db}.events MODIFY COLUMN n String");
        var (replay, gateway, _) = await ReplayerAsync(h.Options);
        using var _g = gateway;

        var none = await ReplayAsync(replay, $$"""{"table":"{{db}}.events","errorContains":"no such reason"}""");
        var one = await ReplayAsync(replay, $$"""{"table":"{{db}}.events","errorContains":"rejected by ClickHouse","limit":1}""");

        Assert.Equal(0, none.GetProperty("selected").GetInt32());
        Assert.Empty(none.GetProperty("otherSinkIds").EnumerateArray());
        Assert.Equal(1, one.GetProperty("replayed").GetInt32());
        Assert.False(one.GetProperty("complete").GetBoolean());
        Assert.Equal(1, await h.ScalarAsync($"SELECT count() FROM {db}.events WHERE n = 'not-a-number'"));
        Assert.Equal(1, await h.ScalarAsync($"SELECT count() FROM {db}.events WHERE _offset = 1"));
    }

    [Fact]
    public async Task Replay_UndecodableRecord_IsCountedUnreplayable_AndNeverInserted()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var db = h.Database;
        var bad = Encoding.UTF8.GetBytes("""{"eventSource":"aws:kafka","eventSourceArn":"arn:x","records":{"orders-0":[{"topic":"orders","partition":0,"offset":3,"timestamp":1,"value":"!!not base64!!","headers":[]}]}}""");
        Assert.True((await h.InvokeAsync(bad)).Succeeded, h.LastError?.ToString());
        Assert.Equal(1, await h.ScalarAsync($"SELECT count() FROM {db}.kafka_dead_letters WHERE undecodable = 1"));

        // A row of an earlier version (no undecodable column then): recognised by the decoder's reason.
        await Sql($"INSERT INTO {db}.kafka_dead_letters (sink_id, source, topic, partition, offset, value, target_table, error) VALUES ('test-sink', 'arn:x', 'orders', 0, 4, '{{\"topic\":\"orders\"}}', '{db}.events', 'field ''value'' is not valid base64 (at byte 9)')");
        var (replay, gateway, _) = await ReplayerAsync(h.Options);
        using var _g = gateway;

        var summary = await ReplayAsync(replay, $$"""{"table":"{{db}}.events"}""");

        Assert.Equal(0, summary.GetProperty("selected").GetInt32());
        Assert.Equal(2, summary.GetProperty("unreplayable").GetInt32());
        Assert.Equal(0, await h.ScalarAsync($"SELECT count() FROM {db}.events"));
    }

    /// <summary>A string-format topic whose values are arbitrary bytes: the replayed row holds the original bytes.</summary>
    [Fact]
    public async Task Replay_BinaryStringValue_ReproducesTheOriginalBytes()
    {
        var db = await fixture.CreateDatabaseAsync("replay", TestContext.Current.CancellationToken);
        await Sql(
            $"CREATE TABLE {db}.blobs (value String, _topic String, _partition Int32, _offset Int64, _timestamp DateTime64(3, 'UTC'), _timestamp_type String, _key Nullable(String), _headers Map(String, String), _source LowCardinality(String), " +
            "CONSTRAINT short CHECK length(value) < 4) ENGINE = MergeTree ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = 1000");
        var options = new SinkOptions
        {
            ClickHouseUrl = fixture.Server.BaseUri,
            User = fixture.Server.User,
            Password = fixture.Server.Password,
            Database = db,
            TopicTables = new Dictionary<string, TableName> { ["blobs"] = new(db, "blobs") }.ToFrozenDictionary(),
            TopicValueFormats = new Dictionary<string, ValueFormat> { ["blobs"] = ValueFormat.String }.ToFrozenDictionary(),
            StringColumn = "value",
            DeadLetterTable = new TableName(db, "kafka_dead_letters"),
            StateTable = new TableName(db, "kafka_sink_state"),
            SinkId = "test-sink",
        };
        byte[] binary = [0x00, 0xff, 0xfe, (byte)'"', (byte)'\\', 0x80, (byte)'\n', 0x1f, (byte)'a', 0xc3, 0xa9];
        byte[] key = [0xde, 0xad, 0x00, 0xbe, 0xef];
        var records = new[]
        {
            new SimRecord("blobs", 0, 10, Ts, key, binary, [new("bin", binary)]),
            new SimRecord("blobs", 0, 11, Ts, null, "ok"u8.ToArray(), []),
        };
        using (var sinkGateway = new DriverClickHouseGateway(options.Connection))
        {
            var sink = await SinkHandlerFactory.CreateAsync(options, sinkGateway, new RecordingLog(), new RecordingMetrics(), TimeProvider.System, CancellationToken.None);
            await sink.HandleAsync(new InvocationContext("s", DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30), "arn", null), KafkaEventWriter.Write(records), CancellationToken.None);
        }

        Assert.Equal(Convert.ToHexString(binary), (await Sql($"SELECT hex(value) FROM {db}.kafka_dead_letters FORMAT TSV")).Trim());
        await Sql($"ALTER TABLE {db}.blobs DROP CONSTRAINT short");
        var (replay, gateway, _) = await ReplayerAsync(options);
        using var _g = gateway;

        var summary = await ReplayAsync(replay, $$"""{"table":"{{db}}.blobs"}""");

        Assert.Equal(1, summary.GetProperty("replayed").GetInt32());
        var row = (await Sql($"SELECT hex(value), hex(_key), hex(_headers['bin']), _timestamp_type, toUnixTimestamp64Milli(_timestamp), _source FROM {db}.blobs WHERE _offset = 10 FORMAT TSV")).TrimEnd('\n').Split('\t');
        Assert.Equal([Convert.ToHexString(binary), Convert.ToHexString(key), Convert.ToHexString(binary), "CREATE_TIME", Ts.ToString(System.Globalization.CultureInfo.InvariantCulture), KafkaEventWriter.DefaultSourceArn], row);
    }

    /// <summary>A dead-letter table of an earlier version (no source, no replay columns) gains them at start-up.</summary>
    [Fact]
    public async Task Start_OldDeadLetterTable_IsMigratedAdditively()
    {
        var db = await fixture.CreateDatabaseAsync("replay", TestContext.Current.CancellationToken);
        await Sql(
            $"CREATE TABLE {db}.kafka_dead_letters (sink_id LowCardinality(String), topic LowCardinality(String), partition Int32, offset Int64, timestamp DateTime64(3, 'UTC'), key Nullable(String), value Nullable(String), " +
            "headers Map(String, String), target_table String, error String, failed_at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY (topic, partition, offset)");
        await Sql($"INSERT INTO {db}.kafka_dead_letters (sink_id, topic, partition, offset, target_table, error) VALUES ('s', 't', 0, 1, 'db.t', 'old')");
        var options = new SinkOptions { ClickHouseUrl = fixture.Server.BaseUri, User = fixture.Server.User, Password = fixture.Server.Password, Database = db, DeadLetterTable = new TableName(db, "kafka_dead_letters"), StateTable = new TableName(db, "kafka_sink_state"), SinkId = "s" };

        var (_, gateway, _) = await ReplayerAsync(options);
        gateway.Dispose();

        Assert.Equal("source\ntimestamp_type\nundecodable\ngeneration\nreplayed_at\nreplay_error\n", await Sql($"SELECT name FROM system.columns WHERE database = '{db}' AND table = 'kafka_dead_letters' AND name IN ('source', 'timestamp_type', 'undecodable', 'generation', 'replayed_at', 'replay_error') ORDER BY position FORMAT TSV"));
        Assert.Equal("\t0\t0\t\\N\n", await Sql($"SELECT source, undecodable, generation, replayed_at FROM {db}.kafka_dead_letters FORMAT TSV"));
    }

    /// <summary>A replay function whose SINK_ID is not the sink's finds nothing, and says under which ids dead letters are.</summary>
    [Fact]
    public async Task Replay_UnderAnotherSinkId_SelectsNothing_AndNamesTheSinkIdsThatHaveDeadLetters()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        Assert.True((await h.InvokeAsync(OrdersWithTypeErrors())).Succeeded, h.LastError?.ToString());
        var (replay, gateway, _) = await ReplayerAsync(h.Options with { SinkId = "replay-function" });
        using var _g = gateway;

        var summary = await ReplayAsync(replay, $$"""{"table":"{{h.Database}}.events"}""");

        Assert.Equal(0, summary.GetProperty("selected").GetInt32());
        Assert.Equal("test-sink", Assert.Single(summary.GetProperty("otherSinkIds").EnumerateArray()).GetString());
    }
}
