using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

using static MskClickHouse.Core.Tests.Delivery.StateStoreWrites;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// The fenced state write against the engine (docs/exactly-once.md, "The fenced state write"): a partition's rows are
/// kept only if its newest recorded version is still the one the write expects when the server applies it, and the
/// read-back says whether ours was kept.
/// </summary>
public class FencedStateWriteTests(ClickHouseFixture fixture)
{
    private async Task<(SinkHarness H, ClickHouseStateStore A, ClickHouseStateStore B)> StoresAsync()
    {
        var h = await SinkHarness.CreateAsync(fixture);
        var a = new ClickHouseStateStore(h.Gateway, h.Options.StateTable, h.Options.SinkId, TimeProvider.System);
        var b = new ClickHouseStateStore(h.Gateway, h.Options.StateTable, h.Options.SinkId, TimeProvider.System);
        await a.EnsureCreatedAsync(CancellationToken.None);
        return (h, a, b);
    }

    private static Task<long> StateRowsAsync(SinkHarness h, long version) =>
        h.ScalarAsync($"SELECT count() FROM {h.Options.StateTable.Sql} WHERE version = {version}");

    [Fact]
    public async Task Save_StateRecordedSinceTheLoad_IsDropped_AndTheReadBackNamesTheOtherPlan()
    {
        var (h, a, b) = await StoresAsync();
        using var _ = h;

        var va = await a.SaveNewAsync(Source, [new StateWrite(Plan(0, 29), 0)]);
        var vb = await b.SaveNewAsync(Source, [new StateWrite(Plan(0, 19), 0)]);

        Assert.Equal(2, await StateRowsAsync(h, va)); // state row and plan record
        Assert.Equal(0, await StateRowsAsync(h, vb));
        Assert.True((await b.LoadAsync(Source, [Key], CancellationToken.None)).States[Key].SamePlanAs(Plan(0, 29)));
        var readBack = await b.ConcurrentPlansAsync(Source, [(Plan(0, 19), 0)], vb, evenSamePlan: false, CancellationToken.None);
        Assert.True(readBack.Conflicts[Key].SamePlanAs(Plan(0, 29)));
        Assert.Empty(readBack.Recorded);
        Assert.Empty(readBack.NotApplied);
        Assert.Empty((await a.ConcurrentPlansAsync(Source, [(Plan(0, 29), 0)], va, evenSamePlan: false, CancellationToken.None)).Conflicts);
    }

    /// <summary>A retry after a lost answer re-sends the same version: the copy that landed first is recognised as ours.</summary>
    [Fact]
    public async Task Save_RetriedWithTheSameVersionAfterTheFirstCopyLanded_IsRecognisedAsApplied()
    {
        var (h, a, _) = await StoresAsync();
        using var __ = h;
        var version = a.NewVersion();

        await a.SaveAsync(Source, [new StateWrite(Plan(0, 9), 0)], version, CancellationToken.None);
        await a.SaveAsync(Source, [new StateWrite(Plan(0, 9), 0)], version, CancellationToken.None);

        Assert.Equal(2, await StateRowsAsync(h, version));
        var readBack = await a.ConcurrentPlansAsync(Source, [(Plan(0, 9), 0)], version, evenSamePlan: false, CancellationToken.None);
        Assert.Equal([Key], readBack.Recorded);
        Assert.Empty(readBack.Conflicts);
        Assert.Empty(readBack.NotApplied);
    }

    [Fact]
    public async Task Save_StateRowsDeletedSinceTheLoad_IsNotApplied()
    {
        var (h, a, b) = await StoresAsync();
        using var _ = h;
        var va = await a.SaveNewAsync(Source, [new StateWrite(Plan(0, 9), 0)]);
        Assert.Equal(va, (await b.LoadAsync(Source, [Key], CancellationToken.None)).States[Key].Version);
        await h.TextAsync($"TRUNCATE TABLE {h.Options.StateTable.Sql}");

        var vb = await b.SaveNewAsync(Source, [new StateWrite(Plan(10, 19), va)]);

        Assert.Equal(0, await StateRowsAsync(h, vb));
        var readBack = await b.ConcurrentPlansAsync(Source, [(Plan(10, 19), va)], vb, evenSamePlan: false, CancellationToken.None);
        Assert.Equal([Key], readBack.NotApplied);
    }

    /// <summary>A row written before sources existed (source '') is the newest state until this source writes its own.</summary>
    [Fact]
    public async Task Save_AdoptedLegacyRow_ExpectsTheLegacyVersion_ThenOnlyTheOwnRowCounts()
    {
        var (h, a, b) = await StoresAsync();
        using var _ = h;
        await h.TextAsync(
            $"INSERT INTO {h.Options.StateTable.Sql} (sink_id, source, topic, partition, generation, nonce, entries, rounds, updated_at, version) " +
            $"VALUES ('{h.Options.SinkId}', '', 'orders', 0, 1, 0, [(0, 9, 0, 9, 1, 0, 0)], [0], now64(3), 5)");
        var loaded = (await a.LoadAsync(Source, [Key], CancellationToken.None)).States[Key];
        Assert.True(loaded.Legacy);
        Assert.Equal(5, loaded.Version);

        var va = await a.SaveNewAsync(Source, [new StateWrite(Plan(10, 19), 5)]);
        var vb = await b.SaveNewAsync(Source, [new StateWrite(Plan(10, 29), 5)]);

        Assert.Equal(2, await StateRowsAsync(h, va));
        Assert.Equal(0, await StateRowsAsync(h, vb));
    }

    /// <summary>Another source cluster's state of the same topic name is not this source's state: it fences nothing.</summary>
    [Fact]
    public async Task Save_AnotherSourceRecordsTheSameTopicName_DoesNotFenceThisSource()
    {
        var (h, a, b) = await StoresAsync();
        using var _ = h;
        var other = new SourceIdentity("arn:aws:kafka:eu-west-1:123456789012:cluster/other/11111111-2222-3333-4444-555555555555-1");

        await b.SaveNewAsync(other, [new StateWrite(Plan(0, 99), 0)]);
        var va = await a.SaveNewAsync(Source, [new StateWrite(Plan(0, 9), 0)]);

        Assert.Equal(2, await StateRowsAsync(h, va));
    }

    /// <summary>The rows travel inside the query: a write above ClickHouse's default max_query_size (256 KiB) raises it for itself.</summary>
    [Fact]
    public async Task Save_LargerThanTheDefaultQuerySize_IsApplied()
    {
        var (h, a, _) = await StoresAsync();
        using var __ = h;
        var states = Enumerable.Range(0, 1_000)
            .Select(p => new StateWrite(new PartitionState(new PartitionKey("orders", p), 0, [.. Enumerable.Range(0, 4).Select(i => new StateEntry(new OffsetRange(i * 100, (i * 100) + 99), new OffsetRange(i * 100, (i * 100) + 99), 0, false))], Nonce: 7), 0))
            .ToList();

        var version = await a.SaveNewAsync(Source, states);

        Assert.Equal(2_000, await StateRowsAsync(h, version));
    }

    /// <summary>
    /// The state rows are deleted between this process's load and its write (an operator reset): the write is dropped,
    /// nothing is inserted under its plan, the partition is answered as a failure naming why, and the retry lands it.
    /// </summary>
    [Fact]
    public async Task Invoke_StateDeletedBetweenLoadAndWrite_PartitionRetried_EachOffsetOnce()
    {
        var db = await fixture.CreateDatabaseAsync("sink", TestContext.Current.CancellationToken);
        using var first = await SinkHarness.CreateAsync(fixture, database: db);
        using var h = await SinkHarness.CreateAsync(fixture, database: db);
        var log = SimulatedLog.Build(9, ["orders"], 1, 20, 0)[("orders", 0)];
        Assert.Empty((await first.InvokeAsync(KafkaEventWriter.Write(log.Take(10)))).Failures);
        var state = h.Options.StateTable.Sql;
        var truncated = 0;
        h.Faults.BeforeSendAsync = async (sql, _) =>
        {
            if (sql.Contains($"INSERT INTO {state} ", StringComparison.Ordinal) && Interlocked.Increment(ref truncated) == 1)
            {
                await h.TextAsync($"TRUNCATE TABLE {state}");
            }
        };

        var stepped = await h.InvokeAsync(KafkaEventWriter.Write(log.Skip(10).Take(10)));
        Assert.Equal([("orders-0", 10L)], stepped.Failures);
        Assert.Contains(h.Log.Lines, l => l.Message.Contains("recorded delivery state changed", StringComparison.Ordinal));
        Assert.Equal(10, await h.ScalarAsync($"SELECT count() FROM {db}.events"));

        Assert.Empty((await h.InvokeAsync(KafkaEventWriter.Write(log.Skip(10).Take(10)))).Failures);
        Assert.Equal(20, await h.ScalarAsync($"SELECT count() FROM {db}.events"));
        Assert.Equal(20, await h.ScalarAsync($"SELECT uniqExact(_offset) FROM {db}.events"));
    }
}
