using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// One insert per table per invocation (docs/exactly-once.md, "One insert per table"): the partitions of a batch go out
/// as one insert under the group's token, and a redelivery of some of them after a lost answer stays exact, driven step
/// by step through the fault layer against the embedded engine.
/// </summary>
public class InsertGroupTests(ClickHouseFixture fixture)
{
    private static bool IsGood(SimRecord r) => r.Value is [(byte)'{', ..] && !System.Text.Encoding.UTF8.GetString(r.Value).Contains("not-a-number", StringComparison.Ordinal);

    /// <summary>The records of these partitions after the first one of each (delivered by <see cref="WarmUpAsync"/>).</summary>
    private static List<SimRecord> Partitions(Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> log, params int[] partitions) =>
        [.. partitions.SelectMany(p => log[("orders", p)].Skip(1))];

    /// <summary>
    /// The first batch of a partition with no state is asked for first and sent alone; groups form from the next one on
    /// (the steady state). Delivers each partition's first record.
    /// </summary>
    private static async Task WarmUpAsync(SinkHarness h, Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> log)
    {
        var outcome = await h.InvokeAsync(KafkaEventWriter.Write(log.Values.Select(r => r[0])));
        Assert.True(outcome.Succeeded && outcome.Failures.Count == 0, h.LastError?.ToString());
    }

    private static async Task AssertEachOffsetOnceAsync(SinkHarness h, IEnumerable<SimRecord> produced)
    {
        var good = produced.Where(IsGood).ToList();
        Assert.Equal(good.Count, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
        Assert.Equal(good.Count, await h.ScalarAsync($"SELECT uniqExact(_topic, _partition, _offset) FROM {h.Database}.events"));
        var bad = produced.Count(r => !IsGood(r));
        Assert.Equal(bad, await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_dead_letters"));
        Assert.Equal(bad, await h.ScalarAsync($"SELECT uniqExact(topic, partition, offset) FROM {h.Database}.kafka_dead_letters"));
    }

    /// <summary>The steady state (the second batch of each partition; the first of a partition is asked for first, alone).</summary>
    [Fact]
    public async Task Invoke_NextBatchOfEightPartitions_OneInsertOnePartInTheTableAndOneStatePart()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = SimulatedLog.Build(3, ["orders"], 8, 100, 0);
        var first = await h.InvokeAsync(KafkaEventWriter.Write(log.Values.SelectMany(r => r.Take(50))));
        Assert.True(first.Succeeded && first.Failures.Count == 0, h.LastError?.ToString());
        await h.TextAsync($"OPTIMIZE TABLE {h.Database}.events FINAL");
        await h.TextAsync($"OPTIMIZE TABLE {h.Database}.kafka_sink_state FINAL");
        var inserts = 0;
        h.Faults.BeforeSendAsync = (sql, _) =>
        {
            if (sql.Contains($"INSERT INTO {h.Options.TopicTables["orders"].Sql} ", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref inserts);
            }

            return Task.CompletedTask;
        };

        var outcome = await h.InvokeAsync(KafkaEventWriter.Write(log.Values.SelectMany(r => r.Skip(50))));

        Assert.True(outcome.Succeeded && outcome.Failures.Count == 0, h.LastError?.ToString());
        Assert.Equal(1, inserts);
        Assert.Equal(2, await h.ScalarAsync($"SELECT count() FROM system.parts WHERE database = '{h.Database}' AND table = 'events' AND active"));
        Assert.Equal(2, await h.ScalarAsync($"SELECT count() FROM system.parts WHERE database = '{h.Database}' AND table = 'kafka_sink_state' AND active"));
        await AssertEachOffsetOnceAsync(h, log.Values.SelectMany(r => r));
    }

    /// <summary>
    /// A's group insert (partitions 0-3) loses its answer and is applied only later; A gives up. B redelivers partition 1
    /// alone: the fill path consumes the group's token with partition 1's rows. Then A's insert is applied (dropped: the
    /// token is spent), and C redelivers 0, 2 and 3: the group's token drops them, presence finds them missing, round 1
    /// lands them. Were round 0 of a member its own token, A's late apply would land partition 1 a second time.
    /// </summary>
    [Fact]
    public async Task Invoke_GroupAppliedLateAfterAMemberWasRedeliveredAlone_EachOffsetOnce()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = SimulatedLog.Build(5, ["orders"], 4, 21, 0);
        await WarmUpAsync(h, log);
        var table = h.Options.TopicTables["orders"];
        var fired = false;
        var refuse = false;
        var next = Fault.None;
        h.Faults.BeforeSendAsync = (sql, _) =>
        {
            next = refuse ? Fault.RefuseBeforeSending : Fault.None;
            if (!fired && sql.Contains($"INSERT INTO {table.Sql} ", StringComparison.Ordinal) && sql.Contains("group~", StringComparison.Ordinal))
            {
                fired = true;
                refuse = true;
                next = Fault.LateApplyOnRelease;
            }

            return Task.CompletedTask;
        };
        h.Faults.Decide = _ => next;

        var a = await h.InvokeAsync(KafkaEventWriter.Write(Partitions(log, 0, 1, 2, 3)), TimeSpan.FromSeconds(5));
        Assert.True(fired);
        Assert.True(!a.Succeeded || a.Failures.Count == 4, "A was expected to give up on every partition");
        refuse = false;

        var b = await h.InvokeAsync(KafkaEventWriter.Write(Partitions(log, 1)));
        Assert.True(b.Succeeded && b.Failures.Count == 0, h.LastError?.ToString());
        Assert.Equal(24, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));
        Assert.Equal(1, await h.Faults.ApplyLateNowAsync());
        Assert.Equal(24, await h.ScalarAsync($"SELECT count() FROM {h.Database}.events"));

        var c = await h.InvokeAsync(KafkaEventWriter.Write(Partitions(log, 0, 2, 3)));
        Assert.True(c.Succeeded && c.Failures.Count == 0, h.LastError?.ToString());
        await h.Faults.DrainAsync();
        await AssertEachOffsetOnceAsync(h, log.Values.SelectMany(r => r));
    }

    /// <summary>The same, with the late apply landing first: the redelivered member's rows are present, and nothing goes again.</summary>
    [Fact]
    public async Task Invoke_GroupAnswerLostButApplied_RedeliveryOfSomeMembersThenAll_EachOffsetOnce()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = SimulatedLog.Build(6, ["orders"], 4, 21, 0);
        await WarmUpAsync(h, log);
        var table = h.Options.TopicTables["orders"];
        var lost = false;
        h.Faults.Decide = r =>
        {
            if (!lost && FaultInjectingHandler.IsInsert(r) && FaultInjectingHandler.SqlText(r).Contains($"`{table.Table}`", StringComparison.Ordinal)
                && FaultInjectingHandler.SqlText(r).Contains("group~", StringComparison.Ordinal))
            {
                lost = true;
                return Fault.LoseAnswerAfterApplying;
            }

            return Fault.None;
        };

        var a = await h.InvokeAsync(KafkaEventWriter.Write(Partitions(log, 0, 1, 2, 3)), TimeSpan.FromSeconds(10));
        Assert.True(a.Succeeded && a.Failures.Count == 0, h.LastError?.ToString());
        Assert.True(lost);
        var b = await h.InvokeAsync(KafkaEventWriter.Write(Partitions(log, 2, 3)));
        Assert.True(b.Succeeded && b.Failures.Count == 0, h.LastError?.ToString());
        var c = await h.InvokeAsync(KafkaEventWriter.Write(Partitions(log, 0, 1, 2, 3)));
        Assert.True(c.Succeeded && c.Failures.Count == 0, h.LastError?.ToString());
        await AssertEachOffsetOnceAsync(h, log.Values.SelectMany(r => r));
    }

    /// <summary>
    /// Bad records in some partitions: the group's insert meets the data error, then each member goes on its own (the
    /// first consumes the group's token), every bad record is dead-lettered once and a redelivery of the whole batch adds
    /// nothing.
    /// </summary>
    [Fact]
    public async Task Invoke_GroupWithRecordsClickHouseRejects_DeadLettersThemAndLandsTheRestOnce()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = SimulatedLog.Build(8, ["orders"], 4, 40, 0.1);
        var all = Partitions(log, 0, 1, 2, 3);
        var grouped = 0;
        h.Faults.BeforeSendAsync = (sql, _) =>
        {
            if (sql.Contains("group~", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref grouped);
            }

            return Task.CompletedTask;
        };
        await WarmUpAsync(h, log);
        Assert.Contains(all, r => !IsGood(r) && r.Value is [(byte)'{', ..]);

        var first = await h.InvokeAsync(KafkaEventWriter.Write(all));
        Assert.True(first.Succeeded && first.Failures.Count == 0, h.LastError?.ToString());
        var again = await h.InvokeAsync(KafkaEventWriter.Write(all));
        Assert.True(again.Succeeded && again.Failures.Count == 0, h.LastError?.ToString());

        Assert.True(grouped > 0, "no insert went out under a group's token");
        await AssertEachOffsetOnceAsync(h, log.Values.SelectMany(r => r));
    }

    /// <summary>A table without offset columns keeps one insert per partition: a subset redelivery could not be told apart there.</summary>
    [Fact]
    public async Task Invoke_TableWithoutOffsetColumns_OneInsertPerPartition()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var log = SimulatedLog.Build(4, ["legacy"], 3, 10, 0);
        var inserts = 0;
        h.Faults.BeforeSendAsync = (sql, _) =>
        {
            if (sql.Contains($"INSERT INTO {h.Options.TopicTables["legacy"].Sql} ", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref inserts);
            }

            return Task.CompletedTask;
        };

        var outcome = await h.InvokeAsync(KafkaEventWriter.Write(log.Values.SelectMany(r => r)));

        Assert.True(outcome.Succeeded && outcome.Failures.Count == 0, h.LastError?.ToString());
        Assert.Equal(3, inserts);
        Assert.Equal(30, await h.ScalarAsync($"SELECT count() FROM {h.Database}.plain"));
    }
}
