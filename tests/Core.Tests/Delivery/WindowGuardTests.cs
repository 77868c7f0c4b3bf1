using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.DevHarness;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// The window guard (docs/exactly-once.md, "The deduplication window"): a range retried after more inserts into its
/// table than the table's deduplication window remembers is inserted again by ClickHouse; the sink knows it.
/// </summary>
public class WindowGuardTests(ClickHouseFixture fixture)
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    [Theory]
    [InlineData(100, 199, 100, null, 10, false)]
    [InlineData(100, 200, 100, null, 10, true)]
    [InlineData(100, 101, 100, 3600L, 3599, false)]
    [InlineData(100, 101, 100, 3600L, 3600, true)]
    public void MayHaveForgotten_CountsBlocksAndSecondsSinceTheMark(long markBlock, long blockNow, long window, long? windowSeconds, long ageSeconds, bool forgotten)
    {
        var mark = new WindowMark(markBlock, Now.AddSeconds(-ageSeconds).ToUnixTimeMilliseconds());

        Assert.Equal(forgotten, WindowGuard.MayHaveForgotten(mark, blockNow, Now, window, windowSeconds));
    }

    [Fact]
    public void MayHaveForgotten_UnknownMark_IsTrustedAsBefore() =>
        Assert.False(WindowGuard.MayHaveForgotten(null, long.MaxValue, Now, 1, 1));

    [Fact]
    public void Plan_SubsetOfARecordedRange_KeepsTheRangesMark()
    {
        var key = new PartitionKey("t", 0);
        var mark = new WindowMark(42, 1000);
        var recorded = new PartitionState(key, 0, [new StateEntry(new OffsetRange(0, 9), new OffsetRange(0, 9), 0, false, Mark: mark)], 7);

        var plan = Reconciler.Plan(key, recorded, new OffsetRange(0, 4), 0, tableHasOffsetColumns: false, strictOffsets: false);

        Assert.Equal(SendKind.Subset, plan.Sends[0].Kind);
        Assert.Equal(mark, plan.Sends[0].Mark);
        Assert.Equal(mark, plan.NewState.Entries[0].Mark);
    }

    /// <summary>
    /// Both tables remember 3 blocks. A batch's insert is applied but its answer lost, and the invocation gives up; then
    /// 5 other inserts go into each table, so the tokens leave the window; then the batch is redelivered. The table with
    /// offset columns asks which records it holds and stays exact; the one without re-sends under the forgotten token, so
    /// ClickHouse lands the rows again, and the sink counts them in PossibleDuplicates (0 without the guard).
    /// </summary>
    [Fact]
    public async Task Invoke_RetryAfterMoreInsertsThanTheWindow_ExactWithOffsetColumns_CountedWithout()
    {
        var db = await fixture.CreateDatabaseAsync("sink", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync(MetadataDdl.Table(db, "events", $"id String, n UInt32, amount Float64, note String, {SimulatedLog.RejectingColumn}", 3), TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync(
            $"CREATE TABLE {db}.plain (id String, n UInt32, amount Float64, note String, {SimulatedLog.RejectingColumn}) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 3", TestContext.Current.CancellationToken);
        using var h = await SinkHarness.CreateAsync(fixture, database: db);
        var log = SimulatedLog.Build(11, ["orders", "legacy"], 1, 11, 0);
        var warm = await h.InvokeAsync(KafkaEventWriter.Write([log[("orders", 0)][0], log[("legacy", 0)][0]]));
        Assert.True(warm.Succeeded && warm.Failures.Count == 0, h.LastError?.ToString());
        var batch = KafkaEventWriter.Write(log.Values.SelectMany(r => r.Skip(1)));

        var lost = 0;
        var refuse = false;
        h.Faults.Decide = r =>
        {
            if (refuse)
            {
                return Fault.RefuseBeforeSending;
            }

            if (FaultInjectingHandler.IsInsert(r) && !FaultInjectingHandler.SqlText(r).Contains("kafka_", StringComparison.Ordinal) && Interlocked.Increment(ref lost) == 2)
            {
                refuse = true;
            }

            return FaultInjectingHandler.IsInsert(r) && !FaultInjectingHandler.SqlText(r).Contains("kafka_", StringComparison.Ordinal) ? Fault.LoseAnswerAfterApplying : Fault.None;
        };
        var a = await h.InvokeAsync(batch, TimeSpan.FromSeconds(5));
        Assert.True(!a.Succeeded || a.Failures.Count == 2, "A was expected to give up on both partitions");
        refuse = false;
        h.Faults.Decide = _ => Fault.None;
        Assert.Equal(11, await h.ScalarAsync($"SELECT count() FROM {db}.plain WHERE note != 'other'"));

        for (var i = 0; i < 5; i++)
        {
            await fixture.Server.QueryAsync($"INSERT INTO {db}.plain (id, n, amount, note) VALUES ('other-{i}', 0, 0, 'other')", TestContext.Current.CancellationToken);
            await fixture.Server.QueryAsync($"INSERT INTO {db}.events (id, n, amount, note, _topic, _partition, _offset) VALUES ('other-{i}', 0, 0, 'other', 'elsewhere', 0, {i})", TestContext.Current.CancellationToken);
        }

        var b = await h.InvokeAsync(batch);
        Assert.True(b.Succeeded && b.Failures.Count == 0, h.LastError?.ToString());

        Assert.Equal(11, await h.ScalarAsync($"SELECT count() FROM {db}.events WHERE _topic = 'orders'"));
        Assert.Equal(11, await h.ScalarAsync($"SELECT uniqExact(_offset) FROM {db}.events WHERE _topic = 'orders'"));
        var plain = await h.ScalarAsync($"SELECT count() FROM {db}.plain WHERE note != 'other'");
        Assert.Equal(21, plain); // the engine forgot the token: the retry landed the 10 rows again
        Assert.Equal(10, h.Metrics.Sum(m => m.PossibleDuplicates));
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("deduplication window", StringComparison.Ordinal));
    }
}
