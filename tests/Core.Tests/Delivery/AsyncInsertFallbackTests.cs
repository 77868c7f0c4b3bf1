using System.Collections.Frozen;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery;

namespace MskClickHouse.Core.Tests.Delivery;

public class AsyncInsertFallbackTests
{
    private static Dictionary<string, string> Settings(InsertMode mode) =>
        InsertSettings.For(FrozenDictionary<string, string>.Empty, "tok", 10, mode);

    /// <summary>Answers each call with the next outcome (an exception to throw, or null: success) and records the settings.</summary>
    private sealed class Server(params ClickHouseException?[] answers)
    {
        private int _next;

        public List<IReadOnlyDictionary<string, string>> Calls { get; } = [];

        public Task<int> SendAsync(IReadOnlyDictionary<string, string> settings)
        {
            Calls.Add(settings);
            var answer = _next < answers.Length ? answers[_next++] : null;
            return answer is null ? Task.FromResult(Calls.Count) : Task.FromException<int>(answer);
        }
    }

    [Theory]
    [InlineData(ClickHouseErrorKind.Data)]
    [InlineData(ClickHouseErrorKind.Permanent)]
    [InlineData(ClickHouseErrorKind.QueryLimit)]
    [InlineData(ClickHouseErrorKind.ViewRejected)]
    public async Task AnAsyncInsertAnsweredWithAFlushOrDataError_IsSentOnceMoreSynchronously_UnderTheSameToken(ClickHouseErrorKind kind)
    {
        var server = new Server(new ClickHouseException("flush failed", kind, 27, rowNumber: 3));

        Assert.Equal(2, await AsyncInsertFallback.RunAsync(Settings(InsertMode.Async), server.SendAsync));

        Assert.Equal(["1", "0"], server.Calls.Select(c => c["async_insert"]));
        Assert.All(server.Calls, c => Assert.Equal("tok", c["insert_deduplication_token"]));
        Assert.False(server.Calls[1].ContainsKey("wait_for_async_insert"));
    }

    [Fact]
    public async Task TheSynchronousAnswerDecides_ItsErrorIsThrown()
    {
        var sync = new ClickHouseException("bad row", ClickHouseErrorKind.Data, 27, rowNumber: 2);
        var server = new Server(new ClickHouseException("flush failed", ClickHouseErrorKind.Data, 27), sync);

        Assert.Same(sync, await Assert.ThrowsAsync<ClickHouseException>(() => AsyncInsertFallback.RunAsync(Settings(InsertMode.Async), server.SendAsync)));
        Assert.Equal(2, server.Calls.Count);
    }

    [Theory]
    [InlineData(ClickHouseErrorKind.Transient)]
    [InlineData(ClickHouseErrorKind.Auth)]
    [InlineData(ClickHouseErrorKind.Permission)]
    [InlineData(ClickHouseErrorKind.MissingTable)]
    public async Task ErrorsAboutTheRequest_AreNotResent(ClickHouseErrorKind kind)
    {
        var server = new Server(new ClickHouseException("no", kind, 1));

        await Assert.ThrowsAsync<ClickHouseException>(() => AsyncInsertFallback.RunAsync(Settings(InsertMode.Async), server.SendAsync));

        Assert.Single(server.Calls);
    }

    [Fact]
    public async Task ASyncInsert_IsNeverResent()
    {
        var server = new Server(new ClickHouseException("bad row", ClickHouseErrorKind.Data, 27, rowNumber: 2));

        await Assert.ThrowsAsync<ClickHouseException>(() => AsyncInsertFallback.RunAsync(Settings(InsertMode.Sync), server.SendAsync));

        Assert.Single(server.Calls);
    }
}

public class AsyncInsertSupportTests
{
    [Theory]
    [InlineData("enable\n")]
    [InlineData("backward_compatible_choice\n")]
    public void AServerThatDeduplicatesBothKindsByOneToken_IsAccepted(string answer) => Assert.Null(AsyncInsertSupport.Refusal(answer));

    [Fact]
    public void AServerWithoutDeduplicateInsert_IsRefused_NamingTheSetting() =>
        Assert.Contains("deduplicate_insert", AsyncInsertSupport.Refusal(string.Empty), StringComparison.Ordinal);

    [Fact]
    public void AProfileThatDisablesDeduplication_IsRefused() =>
        Assert.Contains("deduplicate_insert = disable", AsyncInsertSupport.Refusal("disable\n"), StringComparison.Ordinal);
}
