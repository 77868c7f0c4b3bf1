using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// Rows isolated when ClickHouse rejects a unit as data without naming a row (docs/exactly-once.md, "Limits"), against
/// a late apply: driven step by step through the fault layer (a lost answer applied when the test says), never by timing.
/// </summary>
public class BisectFencingTests(ClickHouseFixture fixture)
{
    /// <summary>A DEFAULT expression that throws for one row: ClickHouse answers code 395 without naming the row.</summary>
    private const string Throwing = "w String DEFAULT throwIf(n = 7, 'seven')";

    /// <summary>
    /// A (offsets 0-9, offset 7 rejected without a row number) sends a part of the unit; that insert's answer is lost and
    /// A gives up (every request refused until its deadline). B, a smaller redelivery (0-5), lands 0-5 under the unit's
    /// token. Then A's lost insert is applied, and C delivers the rest (6-9). Every offset must be present once, and offset
    /// 7 dead-lettered once. Before the fence, A's part was a half under a token of its own (`&lt;token&gt;/0`, offsets 0-4),
    /// which nothing consumed: its late apply landed 0-4 a second time (uncounted on the table without offset columns).
    /// </summary>
    [Theory]
    [InlineData("orders")]
    [InlineData("legacy")]
    public async Task Invoke_UnitRejectedWithoutARowAndAPartAppliedLate_RedeliveryWithADifferentBody_EachOffsetOnce(string topic)
    {
        var db = await fixture.CreateDatabaseAsync("sink", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync(
            $"CREATE TABLE {db}.events (id String, n UInt32, amount Float64, note String, {Throwing}, _topic String, _partition Int32, _offset Int64, " +
            "_timestamp DateTime64(3, 'UTC'), _key Nullable(String), _headers Map(String, String)) " +
            "ENGINE = MergeTree ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = 100000", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync(
            $"CREATE TABLE {db}.plain (id String, n UInt32, amount Float64, note String, {Throwing}) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100000", TestContext.Current.CancellationToken);
        using var h = await SinkHarness.CreateAsync(fixture, database: db);
        var log = SimulatedLog.Build(9, [topic], 1, 10, 0)[(topic, 0)];
        var table = h.Options.TopicTables[topic];

        // The first insert into the target with fewer rows than the unit (a part of it, sent after the rejection) loses
        // its answer and is applied later; A then meets refusals until it gives up.
        var fired = false;
        var refuse = false;
        var next = Fault.None;
        h.Faults.BeforeSendAsync = (sql, _) =>
        {
            next = refuse ? Fault.RefuseBeforeSending : Fault.None;
            if (!fired && sql.Contains($"INSERT INTO {table.Sql} ", StringComparison.Ordinal) && Rows(sql) is > 0 and < 10)
            {
                fired = true;
                refuse = true;
                next = Fault.LateApplyOnRelease;
            }

            return Task.CompletedTask;
        };
        h.Faults.Decide = _ => next;

        var a = await h.InvokeAsync(KafkaEventWriter.Write(log.Take(10)), TimeSpan.FromSeconds(5));
        Assert.True(fired, "no part of the rejected unit was sent: " + string.Join(" | ", h.Log.Lines.Select(l => l.Message)));
        Assert.True(!a.Succeeded || a.Failures.Count == 1, "A was expected to give up");
        refuse = false;

        var b = await h.InvokeAsync(KafkaEventWriter.Write(log.Take(6)));
        Assert.True(b.Succeeded && b.Failures.Count == 0, h.LastError?.ToString());
        Assert.Equal(1, await h.Faults.ApplyLateNowAsync());

        var c = await h.InvokeAsync(KafkaEventWriter.Write(log.Skip(6)));
        Assert.True(c.Succeeded && c.Failures.Count == 0, h.LastError?.ToString());
        await h.Faults.DrainAsync();

        Assert.Equal(1, await h.ScalarAsync($"SELECT count() FROM {db}.kafka_dead_letters WHERE offset = 7"));
        if (topic == "orders")
        {
            Assert.Equal(9, await h.ScalarAsync($"SELECT count() FROM {db}.events"));
            Assert.Equal(9, await h.ScalarAsync($"SELECT uniqExact(_offset) FROM {db}.events"));
        }
        else
        {
            Assert.Equal(9, await h.ScalarAsync($"SELECT uniqExact(id) FROM {db}.plain"));
            var possible = h.Metrics.Sum(m => m.PossibleDuplicates);
            Assert.InRange(await h.ScalarAsync($"SELECT count() FROM {db}.plain"), 9, 9 + possible);
        }
    }

    /// <summary>The JSON rows of an insert request (its SQL is the URL query, a line feed, then the body).</summary>
    private static int Rows(string sql) => sql.Split('\n').Count(l => l.StartsWith('{'));
}
