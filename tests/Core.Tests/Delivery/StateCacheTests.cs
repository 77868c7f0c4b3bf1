using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>When the in-process state cache may plan a batch alone (docs/exactly-once.md, "The in-process state cache").</summary>
public class StateCacheTests
{
    private static readonly SourceIdentity Source = new("arn:aws:kafka:us-east-1:123456789012:cluster/c/1");
    private static readonly PartitionKey A = new("orders", 0);
    private static readonly PartitionKey B = new("orders", 1);

    private static PartitionState State(PartitionKey key, long first, long last, bool legacy = false) =>
        new(key, 0, [new StateEntry(new OffsetRange(first, last), new OffsetRange(first, last), 0, false)], Nonce: 7, Legacy: legacy);

    [Fact]
    public void Take_BatchStartsAfterEveryCachedRange_PlansFromTheCachedWriteWithItsVersion()
    {
        var cache = new StateCache(new FixedTime(DateTimeOffset.UnixEpoch));
        cache.Remember(Source, [State(A, 0, 9), State(B, 0, 4)], 1234);

        var taken = cache.Take(Source, [(A, 10), (B, 5)]);

        Assert.NotNull(taken);
        Assert.Equal(1234, taken.Version);
        Assert.Equal(1234, taken.Snapshot.States[A].Version);
        Assert.Equal(7UL, taken.Snapshot.States[B].Nonce);
        Assert.Empty(taken.Snapshot.SharedWithOtherSources);
    }

    [Fact]
    public void Take_TakesTheEntryOut_SoAnInvocationThatDoesNotEndCleanlyLeavesNothing()
    {
        var cache = new StateCache(new FixedTime(DateTimeOffset.UnixEpoch));
        cache.Remember(Source, [State(A, 0, 9)], 1234);

        Assert.NotNull(cache.Take(Source, [(A, 10)]));
        Assert.Null(cache.Take(Source, [(A, 10)]));
    }

    [Theory]
    [InlineData(9)] // repeats the last offset of the cached range (a redelivery): the table must say what landed
    [InlineData(0)] // repeats the whole range
    [InlineData(-5)] // starts before it (a rewind)
    public void Take_BatchOverlapsOrPrecedesTheCachedRange_Loads(long first)
    {
        var cache = new StateCache(new FixedTime(DateTimeOffset.UnixEpoch));
        cache.Remember(Source, [State(A, 0, 9)], 1234);

        Assert.Null(cache.Take(Source, [(A, first)]));
    }

    [Fact]
    public void Take_PartitionNotInTheLastWrite_Loads()
    {
        var cache = new StateCache(new FixedTime(DateTimeOffset.UnixEpoch));
        cache.Remember(Source, [State(A, 0, 9)], 1234);

        Assert.Null(cache.Take(Source, [(A, 10), (B, 0)]));
    }

    [Fact]
    public void Take_LegacyState_Loads()
    {
        var cache = new StateCache(new FixedTime(DateTimeOffset.UnixEpoch));
        cache.Remember(Source, [State(A, 0, 9, legacy: true)], 1234);

        Assert.Null(cache.Take(Source, [(A, 10)]));
    }

    [Fact]
    public void Take_OlderThanMaxAge_Loads()
    {
        var time = new FixedTime(DateTimeOffset.UnixEpoch);
        var cache = new StateCache(time);
        cache.Remember(Source, [State(A, 0, 9)], 1234);
        time.Now += StateCache.MaxAge + TimeSpan.FromSeconds(1);

        Assert.Null(cache.Take(Source, [(A, 10)]));
    }

    [Fact]
    public void Take_AnotherSource_Loads()
    {
        var cache = new StateCache(new FixedTime(DateTimeOffset.UnixEpoch));
        cache.Remember(Source, [State(A, 0, 9)], 1234);

        Assert.Null(cache.Take(new SourceIdentity("arn:aws:kafka:us-east-1:123456789012:cluster/other/2"), [(A, 10)]));
    }

    [Fact]
    public void Stale_PlansFromAStateReadAfterwards_EvenWithAFreshWriteRemembered()
    {
        var cache = new StateCache(new FixedTime(DateTimeOffset.UnixEpoch));
        cache.Stale(Source);
        cache.Remember(Source, [State(A, 0, 9)], 1234);

        Assert.Null(cache.Take(Source, [(A, 10)]));
    }

    [Fact]
    public void Loaded_NobodyWroteSinceThisProcessesLastWrite_UsesTheCacheAgain()
    {
        var cache = new StateCache(new FixedTime(DateTimeOffset.UnixEpoch));
        cache.Remember(Source, [State(A, 0, 9), State(B, 0, 4)], 1234);
        cache.Stale(Source);
        Assert.Null(cache.Take(Source, [(A, 10), (B, 5)]));

        cache.Loaded(Source, Snapshot(State(A, 0, 9) with { Version = 1234 }, State(B, 0, 4) with { Version = 1234 }));
        cache.Remember(Source, [State(A, 10, 19), State(B, 5, 9)], 1300);

        Assert.NotNull(cache.Take(Source, [(A, 20), (B, 10)]));
    }

    [Fact]
    public void Loaded_AnotherWriterSinceThisProcessesLastWrite_KeepsReadingTheState()
    {
        var cache = new StateCache(new FixedTime(DateTimeOffset.UnixEpoch));
        cache.Remember(Source, [State(A, 0, 9), State(B, 0, 4)], 1234);
        cache.Stale(Source);

        cache.Loaded(Source, Snapshot(State(A, 0, 9) with { Version = 1234 }, State(B, 0, 7) with { Version = 1290 }));
        cache.Remember(Source, [State(A, 10, 19), State(B, 8, 9)], 1300);

        Assert.Null(cache.Take(Source, [(A, 20), (B, 10)]));
    }

    [Fact]
    public void Loaded_APartOfTheLastWriteUnchanged_UsesTheCacheAgain_ButAReadOfNoneOfItDoesNot()
    {
        var cache = new StateCache(new FixedTime(DateTimeOffset.UnixEpoch));
        var other = new PartitionKey("orders", 2);
        cache.Remember(Source, [State(A, 0, 9), State(B, 0, 4)], 1234);
        cache.Stale(Source);

        cache.Loaded(Source, Snapshot(State(other, 0, 3) with { Version = 1234 }));
        cache.Remember(Source, [State(A, 10, 19), State(B, 5, 9)], 1300);
        Assert.Null(cache.Take(Source, [(A, 20), (B, 10)]));

        cache.Loaded(Source, Snapshot(State(A, 10, 19) with { Version = 1300 }));
        cache.Remember(Source, [State(A, 20, 29), State(B, 10, 14)], 1400);
        Assert.NotNull(cache.Take(Source, [(A, 30), (B, 15)]));
    }

    private static StateSnapshot Snapshot(params PartitionState[] states) =>
        new(states.ToDictionary(s => s.Key), new HashSet<PartitionKey>());
}
