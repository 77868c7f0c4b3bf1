using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// A state write applied after its writer gave up (docs/exactly-once.md, "The fenced state write"): the state table is a
/// ReplacingMergeTree(version), so a late row would win over a newer plan whenever its version is higher; the fence drops
/// it when it lands. Driven step by step through the fault layer (requests held, answers lost and applied when the test
/// says), never by timing.
/// </summary>
public class LateStateWriteTests(ClickHouseFixture fixture)
{
    /// <summary>
    /// A (offsets 0-29) loads the state and is held at its state write; B (0-19) loads the same state, records its plan
    /// and sends 0-19, whose answer is lost (applied later); B gives up. A's state write then loses its answer too, A gives
    /// up, and its write is applied now, after B's: a plan nothing was inserted under, over B's live one. C (0-29) plans
    /// from the state; then B's lost insert is applied. Every offset must be present once.
    /// <para>
    /// Same instance (one process): versions are strictly increasing within a process, so B's plan is newer than A's and
    /// A's late row would lose anyway. Another instance whose clock runs ahead: A's late row carries the higher version
    /// and, unfenced, hid B's plan (C re-sent 0-19 under A's token and B's late insert landed them again: 50 rows for 30
    /// offsets). Fenced, A's write expects the version both loaded, finds B's when it lands, and is dropped.
    /// </para>
    /// </summary>
    [Theory]
    [InlineData("orders", false)]
    [InlineData("legacy", false)]
    [InlineData("orders", true)]
    [InlineData("legacy", true)]
    public async Task Invoke_StateWriteAppliedAfterItsWriterGaveUp_OverANewerPlan_EachOffsetOnce(string topic, bool otherInstanceClockAhead)
    {
        var db = await fixture.CreateDatabaseAsync("sink", TestContext.Current.CancellationToken);
        using var hb = await SinkHarness.CreateAsync(fixture, database: db);
        using var other = otherInstanceClockAhead ? await SinkHarness.CreateAsync(fixture, database: db, time: new ClockAhead(TimeSpan.FromSeconds(10))) : null;
        var ha = other ?? hb;
        var log = SimulatedLog.Build(5, [topic], 1, 30, 0)[(topic, 0)];
        var table = hb.Options.TopicTables[topic];
        var state = hb.Options.StateTable.Sql;

        // The first state write (A's) is held until B gave up, then loses its answer and is applied when released; the
        // first data insert (B's) loses its answer likewise. After each, that invocation meets refusals until it gives up.
        var aAtSave = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bGaveUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stateWrites = 0;
        var dataInserts = 0;
        var refuse = false;
        var scripted = true;
        var next = Fault.None; // one invocation sends at a time: the other is held or done
        Func<string, CancellationToken, Task> script = async (sql, _) =>
        {
            next = refuse && scripted ? Fault.RefuseBeforeSending : Fault.None;
            if (!scripted)
            {
                return;
            }

            if (sql.Contains($"INSERT INTO {state} ", StringComparison.Ordinal) && Interlocked.Increment(ref stateWrites) == 1)
            {
                aAtSave.SetResult();
                await bGaveUp.Task;
                next = Fault.LateApplyOnRelease;
                refuse = true;
            }
            else if (sql.Contains($"INSERT INTO {table.Sql} ", StringComparison.Ordinal) && Interlocked.Increment(ref dataInserts) == 1)
            {
                next = Fault.LateApplyOnRelease;
                refuse = true;
            }
        };
        foreach (var h in new[] { ha, hb }.Distinct())
        {
            h.Faults.BeforeSendAsync = script;
            h.Faults.Decide = _ => next;
        }

        var a = Task.Run(() => ha.InvokeAsync(KafkaEventWriter.Write(log.Take(30)), TimeSpan.FromSeconds(6)), TestContext.Current.CancellationToken);
        await aAtSave.Task;
        var b = await hb.InvokeAsync(KafkaEventWriter.Write(log.Take(20)), TimeSpan.FromSeconds(3));
        Assert.True(!b.Succeeded || b.Failures.Count == 1, "B was expected to give up");
        refuse = false;
        bGaveUp.SetResult();
        var first = await a;
        Assert.True(!first.Succeeded || first.Failures.Count == 1, "A was expected to give up");
        scripted = false;
        Assert.Equal(1, await ha.Faults.ApplyLateNowAsync(sql => sql.Contains($"INSERT INTO {state} ", StringComparison.Ordinal)));

        var c = await hb.InvokeAsync(KafkaEventWriter.Write(log.Take(30)));
        Assert.True(c.Succeeded && c.Failures.Count == 0, hb.LastError?.ToString());
        Assert.Equal(1, await hb.Faults.ApplyLateNowAsync());
        await hb.Faults.DrainAsync();

        if (topic == "orders")
        {
            Assert.Equal(30, await hb.ScalarAsync($"SELECT count() FROM {db}.events"));
            Assert.Equal(30, await hb.ScalarAsync($"SELECT uniqExact(_offset) FROM {db}.events"));
        }
        else
        {
            Assert.Equal(30, await hb.ScalarAsync($"SELECT uniqExact(id) FROM {db}.plain"));
            var possible = hb.Metrics.Sum(m => m.PossibleDuplicates) + (other?.Metrics.Sum(m => m.PossibleDuplicates) ?? 0);
            Assert.InRange(await hb.ScalarAsync($"SELECT count() FROM {db}.plain"), 30, 30 + possible);
        }
    }

    /// <summary>The clock of another instance that runs ahead of ours.</summary>
    private sealed class ClockAhead(TimeSpan ahead) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + ahead;
    }
}
