using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

using static MskClickHouse.Core.Tests.Delivery.StateStoreWrites;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// Two invocations delivering different batches of one partition at once (docs/exactly-once.md, "a different batch
/// of the same partition at the same time"), driven step by step against the embedded engine: the interleavings are
/// forced by holding requests in the fault layer and by merging the state table's parts at a chosen instant, never by
/// timing.
/// </summary>
public class ConcurrentPlansTests(ClickHouseFixture fixture)
{
    private static async Task<ClickHouseStateStore> StoreAsync(SinkHarness h, DriverClickHouseGateway gateway, TimeProvider time)
    {
        var store = new ClickHouseStateStore(gateway, h.Options.StateTable, h.Options.SinkId, time);
        await store.EnsureCreatedAsync(CancellationToken.None);
        return store;
    }

    /// <summary>
    /// A saves and checks (nothing yet), B saves, the server merges the state parts (ReplacingMergeTree keeps only B's
    /// newer row), B checks: B must still see A's plan. Before plan records, the merge hid it and both inserted. Both
    /// state rows are kept only when the two fenced writes are evaluated at the same instant (the fence's read and its
    /// insert are not one atomic step); B's write expecting A's version stands in for that race here.
    /// </summary>
    [Fact]
    public async Task ConcurrentPlans_EarlierPlanMergedAwayBeforeTheCheck_IsStillSeen()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        using var ga = new DriverClickHouseGateway(h.Options.Connection);
        using var gb = new DriverClickHouseGateway(h.Options.Connection);
        var a = await StoreAsync(h, ga, TimeProvider.System);
        var b = await StoreAsync(h, gb, TimeProvider.System);
        var planA = Plan(0, 29);
        var planB = Plan(0, 19);

        var va = await a.SaveNewAsync(Source, [new StateWrite(planA, 0)]);
        Assert.Empty((await a.ConcurrentPlansAsync(Source, [(planA, 0)], va, evenSamePlan: false, CancellationToken.None)).Conflicts);
        var vb = await b.SaveNewAsync(Source, [new StateWrite(planB, va)]);
        Assert.True(vb > va);
        await h.TextAsync($"OPTIMIZE TABLE {h.Options.StateTable.Sql} FINAL");

        var seen = await b.ConcurrentPlansAsync(Source, [(planB, 0)], vb, evenSamePlan: false, CancellationToken.None);

        Assert.True(seen.Conflicts.TryGetValue(Key, out var theirs), "B did not see A's plan after the merge");
        Assert.True(theirs.SamePlanAs(planA));
        Assert.Contains(Key, seen.Recorded);
        var loaded = await b.LoadAsync(Source, [Key], CancellationToken.None);
        Assert.True(loaded.States[Key].SamePlanAs(planB));
        Assert.Empty(loaded.SharedWithOtherSources);
    }

    /// <summary>
    /// Two processes may pick the same version (same clock reading): the other's plan is not taken for ours. Both writes
    /// kept (the same-instant race, B's expectation standing in for it as above).
    /// </summary>
    [Fact]
    public async Task ConcurrentPlans_AnotherProcessPicksTheSameVersion_IsStillSeen()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        using var ga = new DriverClickHouseGateway(h.Options.Connection);
        using var gb = new DriverClickHouseGateway(h.Options.Connection);
        var time = new FixedTime(DateTimeOffset.UtcNow);
        var a = await StoreAsync(h, ga, time);
        var b = await StoreAsync(h, gb, time);
        var planA = Plan(0, 29);
        var planB = Plan(0, 19);

        var va = await a.SaveNewAsync(Source, [new StateWrite(planA, 0)]);
        var vb = await b.SaveNewAsync(Source, [new StateWrite(planB, va)]);
        Assert.Equal(va, vb);

        Assert.True((await b.ConcurrentPlansAsync(Source, [(planB, 0)], vb, evenSamePlan: false, CancellationToken.None)).Conflicts.ContainsKey(Key));
        Assert.True((await a.ConcurrentPlansAsync(Source, [(planA, 0)], va, evenSamePlan: false, CancellationToken.None)).Conflicts.ContainsKey(Key));
    }

    /// <summary>
    /// The whole sink, step by step: A (offsets 0-29) loads and is held at its save; B (0-19) loads the same state and
    /// reaches its save, then A saves, checks (nothing else yet) and inserts to the end; then B saves, the server merges
    /// the state parts (keeping B's newer row only), and B checks. B must step back (its partition answered as a
    /// failure, nothing inserted) and every offset must be present once.
    /// </summary>
    [Fact]
    public async Task Invoke_DifferentBatchesAtOnce_StatePartsMergedBeforeTheSecondCheck_EachOffsetOnce()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = SimulatedLog.Build(3, ["orders"], 1, 30, 0)[("orders", 0)];
        var state = h.Options.StateTable.Sql;
        var stateSaves = 0;
        var checks = 0;
        var aHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bAtSave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Faults.BeforeSendAsync = async (sql, _) =>
        {
            if (sql.Contains($"INSERT INTO {state}", StringComparison.Ordinal))
            {
                switch (Interlocked.Increment(ref stateSaves))
                {
                    case 1:
                        // A's save: held until B has loaded the same state and chosen its (later) version.
                        aHeld.SetResult();
                        await bAtSave.Task;
                        break;
                    case 2:
                        // B's save: A now saves, checks and inserts to the end first.
                        bAtSave.SetResult();
                        await aDone.Task;
                        break;
                    default:
                        break;
                }
            }
            else if (sql.Contains($"FROM {state}", StringComparison.Ordinal) && sql.Contains("version >", StringComparison.Ordinal) && Interlocked.Increment(ref checks) == 2)
            {
                // B's check: the server merges the state parts at this instant (a background merge may).
                await h.TextAsync($"OPTIMIZE TABLE {state} FINAL");
            }
        };

        var a = Task.Run(() => h.InvokeAsync(KafkaEventWriter.Write(log.Take(30))));
        await aHeld.Task;
        var b = Task.Run(() => h.InvokeAsync(KafkaEventWriter.Write(log.Take(20))));
        var first = await a;
        aDone.SetResult();
        var second = await b;

        Assert.True(first.Succeeded && first.Failures.Count == 0, h.LastError?.ToString());
        Assert.True(second.Succeeded);
        Assert.Equal([("orders-0", 0L)], second.Failures);
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("another invocation is delivering a different batch", StringComparison.Ordinal));
        await h.Faults.DrainAsync();
        Assert.Equal(30, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
        Assert.Equal(30, await h.ScalarAsync($"SELECT uniqExact(_offset) FROM {h.Database}.events"));
    }

    /// <summary>
    /// A records its plan (0-29) and passes its check, and is held at its data insert; B (0-19) loads A's plan, plans on
    /// top of it (its check finds nothing newer than what it loaded) and sends 0-19 under A's token, which lands first;
    /// A's insert of 0-29 is then dropped as a duplicate yet answered with success. A must not claim the partition:
    /// it is answered as a failure, and its retry lands 20-29. Without the check after the inserts, 20-29 were lost.
    /// </summary>
    [Theory]
    [InlineData("orders")]
    [InlineData("legacy")]
    public async Task Invoke_SecondBatchPlansOnTopOfARunningOne_TheOvertakenOneIsRetried_EachOffsetOnce(string topic)
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = SimulatedLog.Build(5, [topic], 1, 30, 0)[(topic, 0)];
        var table = h.Options.TopicTables[topic];
        var inserts = 0;
        var aHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Faults.BeforeSendAsync = async (sql, _) =>
        {
            if (sql.Contains($"INSERT INTO {table.Sql}", StringComparison.Ordinal) && Interlocked.Increment(ref inserts) == 1)
            {
                aHeld.SetResult();
                await bDone.Task;
            }
        };

        var a = Task.Run(() => h.InvokeAsync(KafkaEventWriter.Write(log.Take(30))));
        await aHeld.Task;
        var second = await h.InvokeAsync(KafkaEventWriter.Write(log.Take(20)));
        bDone.SetResult();
        var first = await a;

        Assert.True(second.Succeeded && second.Failures.Count == 0, h.LastError?.ToString());
        Assert.True(first.Succeeded);
        Assert.Equal([($"{topic}-0", 0L)], first.Failures);
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("recorded a different plan for this partition while offsets 0-29 were being inserted", StringComparison.Ordinal));

        var retry = await h.InvokeAsync(KafkaEventWriter.Write(log.Take(30)));
        Assert.True(retry.Succeeded && retry.Failures.Count == 0, h.LastError?.ToString());
        if (topic == "orders")
        {
            Assert.Equal(30, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
            Assert.Equal(30, await h.ScalarAsync($"SELECT uniqExact(_offset) FROM {h.Database}.events"));
        }
        else
        {
            Assert.Equal(30, await h.ScalarAsync($"SELECT uniqExact(id) FROM {h.Database}.plain"));
            Assert.InRange(await h.ScalarAsync($"SELECT count() FROM {h.Database}.plain"), 30, 30 + h.Metrics.Sum(m => m.PossibleDuplicates));
        }
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
