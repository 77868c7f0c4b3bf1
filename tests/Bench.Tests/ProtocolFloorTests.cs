using System.Text;
using System.Text.RegularExpressions;
using MskClickHouse.Bench.EndToEnd;
using MskClickHouse.Bench.EndToEnd.Sections;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Core.Logging;
using MskClickHouse.DevHarness;
using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Bench.Tests;

/// <summary>The protocol floor sends what the sink sends: the sink's requests, recorded in-process, against the floor's.</summary>
public sealed partial class ProtocolFloorTests(ClickHouseFixture clickHouse)
{
    [Fact]
    public async Task Floor_SteadyStateBatch_SendsTheSinksStateWriteReadBackAndInsertsWithTheSameSettings()
    {
        var ct = TestContext.Current.CancellationToken;
        using var engine = new EngineClient(clickHouse.Server.BaseUri, clickHouse.Server.User, clickHouse.Server.Password);
        var context = new BenchContext(BenchOptions.Parse([]), engine, BootstrapPublisher.FindRepositoryRoot(), aot: string.Empty, jit: null, TextWriter.Null);
        var db = await clickHouse.CreateDatabaseAsync("protocol", ct);
        await engine.QueryAsync(Workload.CreateTable(db, "events"), ct);
        await engine.QueryAsync(Workload.CreateTable(db, "events_floor"), ct);
        var workload = new Workload(30, 120);

        // The sink: the Core handler in this process, its gateway calls recorded on their way to the engine.
        var sinkOptions = ProtocolFloor.OptionsFor(context, db, "sink-under-test");
        using var driver = new DriverClickHouseGateway(sinkOptions.Connection);
        var recorder = new RecordingGateway(driver);
        var handler = await SinkHandlerFactory.CreateAsync(sinkOptions, recorder, new NullLog(), new NullMetrics(), TimeProvider.System, ct);
        var sinkCalls = new List<List<GatewayCall>>();
        foreach (var batch in new[] { 0, 1 })
        {
            recorder.Take();
            var answer = await handler.HandleAsync(new InvocationContext($"floor-test-{batch}", DateTimeOffset.UtcNow.AddMinutes(5), "arn:aws:lambda:eu-west-1:123456789012:function:bench", null), workload.Event(batch), ct);
            Assert.Equal("""{"batchItemFailures":[]}""", Encoding.UTF8.GetString(answer));
            sinkCalls.Add(recorder.Take());
        }

        (handler as IDisposable)?.Dispose();

        // The floor: the same two batches (the second plans from the state the first wrote, as the sink's does).
        using var floor = new ProtocolFloor(engine, ProtocolFloor.OptionsFor(context, db, "floor-under-test"), "events_floor");
        var floorCalls = new List<List<GatewayCall>>();
        foreach (var batch in new[] { 0, 1 })
        {
            var prepared = await floor.PrepareAsync(workload.Event(batch), ct);
            await floor.RunAsync(prepared, ct, ProtocolFloor.Variant.WithReadBack);
            floorCalls.Add([.. prepared.Cached ? [] : new[] { prepared.StateRead }, prepared.StateWrite, prepared.ReadBack, .. prepared.Inserts.Select(i => i.Call), prepared.ReadBack]);
        }

        // The steady state (the second batch, planned from the state cache of the first: no state read): every request
        // of the sink's invocation is one the floor sends, in the same order up to the inserts (which run in parallel),
        // with the same SQL, settings and body.
        // The insert group's token names its table and hashes it with the members: both differ between the two tables;
        // so do the window marks (each table's block number, the time).
        string Normalize(string text, string sinkId, string table) => GroupHash().Replace(
            Volatile().Replace(
                text.Replace($".`{table}`", ".`TARGET`", StringComparison.Ordinal).Replace($".{table}:", ".TARGET:", StringComparison.Ordinal).Replace(sinkId, "SINK_ID", StringComparison.Ordinal),
                "${1}N"),
            m => m.Value.StartsWith("group~", StringComparison.Ordinal) ? "group~N" : "N");
        string Describe(GatewayCall c, string sinkId, string table) =>
            Normalize($"{c.Sql}\n{string.Join("&", c.Settings.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}"))}\n{(c.Body is null ? string.Empty : Encoding.UTF8.GetString(c.Body))}", sinkId, table);
        List<string> Ordered(List<GatewayCall> calls, string sinkId, string table) =>
            [.. calls.Take(2).Select(c => Describe(c, sinkId, table)), .. calls.Skip(2).Select(c => Describe(c, sinkId, table)).Order(StringComparer.Ordinal)];

        var sink = Ordered(sinkCalls[1], "sink-under-test", "events");
        var floorSent = Ordered(floorCalls[1], "floor-under-test", "events_floor");
        Assert.Equal(2 + 1 + 1, floorSent.Count); // write, read-back, one insert of the 6 partitions (an insert group), read-back after it
        Assert.Contains("group~N", floorSent[2], StringComparison.Ordinal);
        Assert.Equal(floorSent, sink);
        Assert.StartsWith("INSERT INTO", sink[0], StringComparison.Ordinal);
        Assert.Contains(ClickHouseStateStore.SequentialConsistency, sink[1], StringComparison.Ordinal);
        Assert.Contains("insert_deduplication_token=SINK_ID:", sink[2], StringComparison.Ordinal);

        // The first batch (nothing cached yet) read the state first, as the floor's.
        Assert.Contains("FINAL", Describe(sinkCalls[0][0], "sink-under-test", "events"), StringComparison.Ordinal);
        Assert.Equal(Describe(floorCalls[0][0], "floor-under-test", "events_floor"), Describe(sinkCalls[0][0], "sink-under-test", "events"));

        // Both landed the same rows once.
        Assert.Equal(await engine.CountAsync($"{db}.events", ct), await engine.CountAsync($"{db}.events_floor", ct));
    }

    /// <summary>
    /// What differs between two runs of the same protocol: versions (written and expected), write times, and plan-record keys
    /// (<c>#plan@&lt;version&gt;.&lt;writer id&gt;</c>: a random writer id per state write).
    /// </summary>
    [GeneratedRegex("""group~[0-9a-f]{16}|(?<="insert_groups":\[)[^\]]*|(?<="block":)[0-9]+|(?<="at":)[0-9]+""")]
    private static partial Regex GroupHash();

    [GeneratedRegex("""("version":|"expected":|version > |version != |"updated_at":|#plan@)("[^"]*"|[0-9]+(\.[0-9a-f]+)?)""")]
    private static partial Regex Volatile();
}
