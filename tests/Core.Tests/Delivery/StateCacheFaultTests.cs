using System.Text;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

using static MskClickHouse.Core.Tests.Delivery.StateStoreWrites;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// The in-process state cache against the failures it must survive (docs/exactly-once.md, "The in-process state
/// cache"): a stale cache in one execution environment after another one delivered the partition, and a crash between
/// a write planned from the cache and its read-back. Real sink, embedded engine, faults from the fault layer.
/// </summary>
public class StateCacheFaultTests(ClickHouseFixture fixture)
{
    /// <summary>One topic per test: a batch whose partitions go to tables with and without offset columns is not cached
    /// (its landed mark covers some partitions only, so its last write has two versions).</summary>
    private static byte[] Batch(string topic, long first, long last) => KafkaEventWriter.Write(
        from offset in Enumerable.Range((int)first, (int)(last - first + 1))
        select new SimRecord(topic, 0, offset, 1_700_000_000_000 + offset, null, Encoding.UTF8.GetBytes($$"""{"id":"{{topic}}-{{offset}}","n":{{offset}},"amount":1.5,"note":"x"}"""), []));

    private static bool IsDataInsert(HttpRequestMessage r) =>
        FaultInjectingHandler.IsInsert(r) && !FaultInjectingHandler.SqlText(r).Contains("kafka_", StringComparison.Ordinal);

    /// <summary>
    /// A delivers 0-9 (cached; for the table without offset columns the landed mark is the cached write). B delivers 10-19: its state and rows land but every insert answer is lost, so B fails.
    /// The mapping retries a smaller batch 10-14 at A, whose cache still says 0-9 and plans it as new rows under a new
    /// token: its read-back finds B's plan, so it re-plans from the state table (B's plan) in the same invocation and
    /// lands nothing twice.
    /// </summary>
    [Theory]
    [InlineData("orders")] // table with offset columns: the re-plan fills what is missing (nothing)
    [InlineData("legacy")] // table without: the re-plan sends the subset under B's token (dropped), the tail is counted
    public async Task StaleCache_RetryOfABatchAnotherSandboxHalfDelivered_ReplansFromTheTableAndLandsOnce(string topic)
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var a = h.Handler;
        var b = await SinkHandlerFactory.CreateAsync(h.Options, h.Gateway, h.Log, h.Metrics, TimeProvider.System, CancellationToken.None);

        Assert.Empty((await h.InvokeAsync(Batch(topic, 0, 9), handler: a)).Failures);

        h.Faults.Decide = r => IsDataInsert(r) ? Fault.LoseAnswerAfterApplying : Fault.None;
        var lost = await h.InvokeAsync(Batch(topic, 10, 19), TimeSpan.FromSeconds(1.5), b);
        Assert.True(!lost.Succeeded || lost.Failures.Count == 1, "B's inserts all lost their answers: it must not answer success");
        h.Faults.Decide = _ => Fault.None;
        var table = topic == "orders" ? "events" : "plain";
        Assert.Equal(20, await h.ScalarAsync($"SELECT count() FROM {h.Database}.{table}"));

        Assert.Empty((await h.InvokeAsync(Batch(topic, 10, 14), handler: a)).Failures);
        Assert.Contains(h.Log.Lines, l => l.Message.StartsWith("state cache stale", StringComparison.Ordinal));
        Assert.Equal(20, await h.ScalarAsync($"SELECT count() FROM {h.Database}.{table}"));
        Assert.Empty((await h.InvokeAsync(Batch(topic, 15, 19), handler: a)).Failures);
        Assert.Empty((await h.InvokeAsync(Batch(topic, 20, 29), handler: a)).Failures);
        Assert.Empty((await h.InvokeAsync(Batch(topic, 30, 39), handler: a)).Failures);

        Assert.Equal(40, await h.ScalarAsync($"SELECT uniqExact(id) FROM {h.Database}.{table}"));
        var possible = h.Metrics.Sum(m => m.PossibleDuplicates);
        Assert.Equal(topic == "orders" ? 0 : 5, possible); // the tail 15-19 after a subset of a range of unknown outcome
        Assert.InRange(await h.ScalarAsync($"SELECT count() FROM {h.Database}.{table}"), 40, 40 + possible);
    }

    /// <summary>
    /// The write planned from a cache (based on version v) loses to any state recorded since by a writer that read v,
    /// so a crash between that write and its read-back leaves the other writer's plan as the state: the next load plans
    /// from it, not from the stale one. Written after theirs, the fence drops it; written at the same instant (both
    /// fenced reads before either insert; ours expecting their version stands in for that race) its version loses.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SaveFromCache_AnotherWriterRecordedSince_TheirStateStillWinsWithoutAnyReadBack(bool sameInstant)
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var a = new ClickHouseStateStore(h.Gateway, h.Options.StateTable, h.Options.SinkId, TimeProvider.System);
        var b = new ClickHouseStateStore(h.Gateway, h.Options.StateTable, h.Options.SinkId, TimeProvider.System);
        await a.EnsureCreatedAsync(CancellationToken.None);

        var cachedVersion = await a.SaveNewAsync(Source, [new StateWrite(Plan(0, 9), 0)]);
        var loaded = await b.LoadAsync(Source, [Key], CancellationToken.None);
        Assert.Equal(cachedVersion, loaded.States[Key].Version);
        var theirs = await b.SaveNewAsync(Source, [new StateWrite(Plan(10, 19), cachedVersion)]);
        var ours = await a.SaveNewAsync(Source, [new StateWrite(Plan(10, 14), sameInstant ? theirs : cachedVersion)], cachedVersion);

        Assert.Equal(cachedVersion + 1, ours);
        Assert.True(theirs >= cachedVersion + 2);
        Assert.Equal(sameInstant ? 1 : 0, await h.ScalarAsync($"SELECT count() FROM {h.Options.StateTable.Sql} WHERE version = {ours} AND position(source, '#plan@') = 0"));
        await h.TextAsync($"OPTIMIZE TABLE {h.Options.StateTable.Sql} FINAL");
        Assert.True((await a.LoadAsync(Source, [Key], CancellationToken.None)).States[Key].SamePlanAs(Plan(10, 19)));

        // And the write planned from the cache is superseded by its own process's next write.
        var next = await a.SaveNewAsync(Source, [new StateWrite(Plan(20, 29), theirs)]);
        Assert.True(next >= theirs + 2);
        Assert.True((await b.LoadAsync(Source, [Key], CancellationToken.None)).States[Key].SamePlanAs(Plan(20, 29)));
    }

    /// <summary>
    /// From the cache, a plan another writer recorded since is a conflict even when it equals ours: the cache did not
    /// see it, so ours may be a new unit where the recorded state asks for a fill (tables with offset columns).
    /// </summary>
    [Fact]
    public async Task ReadBackFromCache_SamePlanRecordedSinceByAnotherWriter_IsAConflict()
    {
        using var h = await SinkHarness.CreateAsync(fixture);
        var a = new ClickHouseStateStore(h.Gateway, h.Options.StateTable, h.Options.SinkId, TimeProvider.System);
        var b = new ClickHouseStateStore(h.Gateway, h.Options.StateTable, h.Options.SinkId, TimeProvider.System);
        await a.EnsureCreatedAsync(CancellationToken.None);

        var cachedVersion = await a.SaveNewAsync(Source, [new StateWrite(Plan(0, 9), 0)]);
        await b.LoadAsync(Source, [Key], CancellationToken.None);
        await b.SaveNewAsync(Source, [new StateWrite(Plan(10, 19), cachedVersion)]);
        var ours = await a.SaveNewAsync(Source, [new StateWrite(Plan(10, 19), cachedVersion)], cachedVersion);

        var equal = await a.ConcurrentPlansAsync(Source, [(Plan(10, 19), cachedVersion)], ours, evenSamePlan: false, CancellationToken.None);
        Assert.Empty(equal.Conflicts);
        Assert.Empty(equal.NotApplied); // not applied (the fence), but an equal plan recorded since explains it
        var seen = await a.ConcurrentPlansAsync(Source, [(Plan(10, 19), cachedVersion)], ours, evenSamePlan: true, CancellationToken.None);
        Assert.True(seen.Conflicts.ContainsKey(Key));
    }
}
