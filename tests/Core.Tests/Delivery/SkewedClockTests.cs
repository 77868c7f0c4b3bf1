using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// The check after the inserts ("was a plan recorded on top of ours?") of an invocation whose plan write the fence
/// dropped because an identical plan was recorded first: its own version names nothing, and its clock may run ahead.
/// Three overlapping deliveries, driven step by step by holding the skewed invocation's requests.
/// </summary>
public class SkewedClockTests(ClickHouseFixture fixture)
{
    [Fact]
    public async Task ClockTenSecondsAhead_PlanFencedOutByAnIdenticalOne_StillSeesAPlanRecordedOnTop_AndFails()
    {
        var topology = Topology.MergeTree();
        using var h = await TopologyHarness.CreateAsync(fixture, [topology]);
        var records = TopologyHarness.Records(topology.Name, 30);
        var faults = new FaultInjectingHandler(new SocketsHttpHandler(), _ => Fault.None);
        using var gateway = new DriverClickHouseGateway(h.Options.Connection, faults);
        var skewed = await SinkHandlerFactory.CreateAsync(h.Options, gateway, h.Log, h.Metrics, new ClockAhead(TimeSpan.FromSeconds(10)), CancellationToken.None);

        var (writeHeld, releaseWrite, checkHeld, releaseCheck) = (new TaskCompletionSource(), new TaskCompletionSource(), new TaskCompletionSource(), new TaskCompletionSource());
        var (writes, readBacks) = (0, 0);
        faults.BeforeSendAsync = async (sql, _) =>
        {
            if (sql.Contains("INSERT INTO", StringComparison.Ordinal) && sql.Contains("kafka_sink_state", StringComparison.Ordinal) && Interlocked.Increment(ref writes) == 1)
            {
                writeHeld.SetResult();
                await releaseWrite.Task;
            }
            else if (sql.Contains("startsWith(source,", StringComparison.Ordinal) && Interlocked.Increment(ref readBacks) == 2)
            {
                checkHeld.SetResult();
                await releaseCheck.Task;
            }
        };

        // X (clock ahead) loads the state (none) and is held before its plan write.
        var x = h.InvokeAsync(records, handler: skewed);
        await writeHeld.Task;

        // Y delivers the same batch meanwhile: its identical plan is recorded first, so the fence drops X's write.
        Assert.Empty(await h.InvokeAsync(records));
        releaseWrite.SetResult();

        // X inserts (its records are present) and is held before its check; Z plans a smaller batch on top of Y's plan.
        await checkHeld.Task;
        Assert.Empty(await h.InvokeAsync(records.Take(20)));
        releaseCheck.SetResult();

        // Z's plan was recorded after X loaded, with a version below X's clock: X must see it and step back.
        Assert.Equal([($"{topology.Name}-0", 0L)], await x);
        Assert.Equal((30L, 30L, 30L), await h.CountsAsync(topology.Stored));
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("recorded a different plan for this partition while offsets 0-29 were being inserted", StringComparison.Ordinal));
    }

    private sealed class ClockAhead(TimeSpan ahead) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + ahead;
    }
}
