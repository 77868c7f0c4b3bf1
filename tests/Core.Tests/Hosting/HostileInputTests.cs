using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Core.Tests.Delivery;
using MskClickHouse.TestSupport;
using static MskClickHouse.Core.Tests.Events.TestEvents;

namespace MskClickHouse.Core.Tests.Hosting;

/// <summary>
/// Issue #29's reproductions through the real sink against the embedded engine: one bad record never fails its batch,
/// records without an identity are each dead-lettered once, no topic reaches the sink's own tables.
/// </summary>
public sealed class HostileInputTests(ClickHouseFixture fixture)
{
    private static string Order(int partition, long offset) =>
        Record("orders", partition, offset, JsonValue($$"""{"id":"o{{partition}}-{{offset}}","n":{{offset}},"amount":1.5,"note":""}"""));

    private static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);

    [Theory]
    [InlineData("\"key\":5,\"value\":{}")] // reproduction 1
    [InlineData("\"value\":\"e30\\ud800\"")] // reproduction 2
    [InlineData("\"headers\":[{\"h\\ud800\":[1]}],\"value\":[[]]")]
    public async Task Invoke_OneBadRecord_IsDeadLetteredAndTheRestOfItsBatchLands(string fields)
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var bad = $$"""{"topic":"orders","partition":0,"offset":2,{{fields}}}""";

        var outcome = await h.InvokeAsync(Bytes(Event(("orders-0", [Order(0, 1), bad, Order(0, 3)]), ("orders-1", [Order(1, 7)]))));

        Assert.True(outcome.Succeeded, h.LastError?.ToString());
        Assert.Empty(outcome.Failures);
        Assert.Equal("0:1,0:3,1:7", await h.TextAsync($"SELECT arrayStringConcat(groupArray(concat(toString(_partition), ':', toString(_offset))), ',') FROM (SELECT * FROM {h.Database}.events ORDER BY _partition, _offset)"));
        Assert.Equal("0\t2\t1", await h.TextAsync($"SELECT partition, offset, undecodable FROM {h.Database}.kafka_dead_letters"));
    }

    [Fact]
    public async Task Invoke_RecordsWithoutAValidOffset_AreEachDeadLetteredOnceWithAReason()
    {
        // Reproduction 3: missing, null, string and negative offsets, in two batches, each batch invoked twice.
        using var h = await SinkHarness.CreateAsync(fixture);
        string Cut(string offset) => Order(0, 0).Replace("\"offset\":0,", offset, StringComparison.Ordinal);
        var first = Bytes(Event(("orders-0", [Order(0, 1), Cut(""), Cut("\"offset\":null,"), Order(0, 2)])));
        var second = Bytes(Event(("orders-0", [Cut("\"offset\":\"5\","), Order(0, 3), Cut("\"offset\":-4,")])));

        foreach (var payload in new[] { first, first, second, second })
        {
            var outcome = await h.InvokeAsync(payload);
            Assert.True(outcome.Succeeded, h.LastError?.ToString());
            Assert.Empty(outcome.Failures);
        }

        Assert.Equal(3, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
        Assert.Equal(3, await h.ScalarAsync($"SELECT uniqExact(_offset) FROM {h.Database}.events"));
        Assert.Equal(4, await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_dead_letters WHERE undecodable = 1 AND offset < 0 AND error LIKE '%no valid ''offset''%'"));
        Assert.Equal(4, await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_dead_letters"));
        Assert.Equal(8, h.Metrics.Sum(m => m.UnidentifiedRecords));
        Assert.Equal(8, h.Log.Lines.Count(l => l.Message.Contains("UnidentifiedRecords", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("kafka_sink_state")] // reproduction 4: the state table
    [InlineData("kafka_dead_letters")]
    [InlineData("sink_dry_run_events_0123")]
    public async Task Invoke_TopicNamedLikeTheSinksOwnTable_IsRefusedAndTheOtherPartitionLands(string topic)
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        await h.InvokeAsync(Bytes(Event(("orders-0", [Order(0, 0)])))); // creates nothing by itself: the state table exists from start-up
        var forged = Record(topic, 0, 0, JsonValue("""{"sink_id":"test-sink","topic":"orders","partition":0,"next_offset":1000}"""));
        var stateRows = await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_sink_state");

        var outcome = await h.InvokeAsync(Bytes(Event(($"{topic}-0", [forged]), ("orders-0", [Order(0, 1)]))));

        Assert.True(outcome.Succeeded, h.LastError?.ToString());
        Assert.Equal([($"{topic}-0", 0L)], outcome.Failures);
        Assert.Equal(2, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
        Assert.Equal(0, await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_dead_letters"));
        Assert.Equal(0, await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_sink_state WHERE topic = '{topic}'"));
        Assert.True(await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_sink_state") > stateRows); // the orders partition's own rows
        Assert.Equal(1, h.Metrics.Sum(m => m.RefusedRoutes));
        Assert.Contains(h.Log.Lines, l => l.Message.Contains($"topic '{topic}' is refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Invoke_DefaultRouteNone_DeadLettersUnlistedTopicsOnceWithNoRoute_AndRoutedOnesLand()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var options = h.Options with { DefaultRoute = DefaultRoute.None };
        var handler = new SinkHandler(options, h.Gateway, new TableCatalog(h.Gateway), new ClickHouseStateStore(h.Gateway, options.StateTable, options.SinkId, TimeProvider.System), h.Log, h.Metrics, TimeProvider.System, Random.Shared.NextDouble);
        var payload = Bytes(Event(("clicks-0", [Record("clicks", 0, 4, JsonValue("{}")), Record("clicks", 0, 5, JsonValue("{}"))]), ("orders-0", [Order(0, 1)])));

        foreach (var _ in new[] { 1, 2 })
        {
            var outcome = await h.InvokeAsync(payload, handler: handler);
            Assert.True(outcome.Succeeded, h.LastError?.ToString());
            Assert.Empty(outcome.Failures);
        }

        Assert.Equal(1, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
        Assert.Equal("clicks\t4\t0\nclicks\t5\t0", await h.TextAsync($"SELECT topic, offset, undecodable FROM {h.Database}.kafka_dead_letters WHERE error LIKE 'no route for topic ''clicks''%' ORDER BY offset"));
        Assert.Equal(0, await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_sink_state WHERE topic = 'clicks'"));
    }
}
