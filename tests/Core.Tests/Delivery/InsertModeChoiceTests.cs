using System.Collections.Frozen;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery;

namespace MskClickHouse.Core.Tests.Delivery;

public class InsertModeChoiceTests
{
    [Theory]
    [InlineData(InsertMode.Async, true, false, InsertMode.Async)]
    [InlineData(InsertMode.Async, false, false, InsertMode.Sync)]
    [InlineData(InsertMode.Async, null, false, InsertMode.Sync)]
    [InlineData(InsertMode.Async, true, true, InsertMode.Sync)]
    [InlineData(InsertMode.Sync, true, false, InsertMode.Sync)]
    public void Async_OnlyForATableThatDeduplicatesAndFeedsNoView(InsertMode configured, bool? deduplicates, bool views, InsertMode expected) =>
        Assert.Equal(expected, InsertModeChoice.For(configured, deduplicates, views));
}

public class InsertSettingsTests
{
    private static readonly FrozenDictionary<string, string> Extra =
        new Dictionary<string, string> { ["max_threads"] = "2" }.ToFrozenDictionary(StringComparer.Ordinal);

    [Fact]
    public void Sync_PinsAsyncInsertOff_AndSendsNoAsyncSettings()
    {
        var settings = InsertSettings.For(Extra, "tok", 10);

        Assert.Equal("0", settings["async_insert"]);
        Assert.False(settings.ContainsKey("wait_for_async_insert"));
        Assert.False(settings.ContainsKey("async_insert_deduplicate"));
        Assert.False(InsertSettings.IsAsynchronous(settings));
        Assert.Equal("tok", settings["insert_deduplication_token"]);
        Assert.Equal("1", settings["insert_deduplicate"]);
        Assert.Equal("2", settings["max_threads"]);
    }

    [Fact]
    public void Async_WaitsForTheFlushAndDeduplicatesUnderTheSameToken()
    {
        var settings = InsertSettings.For(Extra, "tok", 10, InsertMode.Async);

        Assert.Equal("1", settings["async_insert"]);
        Assert.Equal("1", settings["wait_for_async_insert"]);
        Assert.Equal("1", settings["async_insert_deduplicate"]);
        Assert.True(InsertSettings.IsAsynchronous(settings));
        Assert.Equal("tok", settings["insert_deduplication_token"]);
        Assert.Equal("1", settings["insert_deduplicate"]);
        Assert.Equal("1048449", settings["min_insert_block_size_rows"]);
    }

    [Fact]
    public void Synchronous_OfAnAsyncInsert_IsTheSyncInsertUnderTheSameToken()
    {
        var async = InsertSettings.For(Extra, "tok", 10, InsertMode.Async);
        async["optimize_on_insert"] = "0";

        var sync = InsertSettings.Synchronous(async);

        Assert.Equal(InsertSettings.For(Extra, "tok", 10).Append(new("optimize_on_insert", "0")).OrderBy(p => p.Key), sync.OrderBy(p => p.Key));
        Assert.Equal("1", async["async_insert"]);
    }
}
