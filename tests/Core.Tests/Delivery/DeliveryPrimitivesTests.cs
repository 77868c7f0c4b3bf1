using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Hosting;

namespace MskClickHouse.Core.Tests.Delivery;

public class DeduplicationTokenTests
{
    private static readonly TokenScope Scope = new("sink-1", "00000000000000ab", 0x1234, Legacy: false);

    [Fact]
    public void ForData_NamesSinkSourceTopicPartitionRangeAndNonce()
    {
        Assert.Equal("sink-1:00000000000000ab:orders:3:100-199~0000000000001234", DeduplicationToken.ForData(Scope, "orders", 3, new OffsetRange(100, 199), 0, 0));
    }

    [Fact]
    public void ForData_LaterRound_DiffersFromFirst()
    {
        Assert.Equal("sink-1:00000000000000ab:orders:3:100-199~0000000000001234/r2", DeduplicationToken.ForData(Scope, "orders", 3, new OffsetRange(100, 199), 0, 2));
    }

    [Fact]
    public void ForData_TwoSourcesSameTopic_DifferentTokens()
    {
        var a = new SourceIdentity("arn:aws:kafka:us-east-1:1:cluster/a/1");
        var b = new SourceIdentity("arn:aws:kafka:eu-west-1:1:cluster/a/1");

        Assert.NotEqual(
            DeduplicationToken.ForData(Scope with { SourceHash = a.Hash }, "orders", 0, new OffsetRange(0, 9), 0, 0),
            DeduplicationToken.ForData(Scope with { SourceHash = b.Hash }, "orders", 0, new OffsetRange(0, 9), 0, 0));
    }

    [Fact]
    public void ForData_LegacyState_KeepsTheFormatOfEarlierVersions()
    {
        var legacy = Scope with { Legacy = true };
        Assert.Equal("sink-1:orders:3:100-199", DeduplicationToken.ForData(legacy, "orders", 3, new OffsetRange(100, 199), 0, 0));
        Assert.Equal("sink-1:orders:3:100-199~g2", DeduplicationToken.ForData(legacy, "orders", 3, new OffsetRange(100, 199), 2, 0));
    }

    [Fact]
    public void ForDeadLetters_DiffersFromDataToken()
    {
        Assert.Equal("dlq:s:t:0:1-2", DeduplicationToken.ForDeadLetters("s:t:0:1-2"));
    }
}

public class RetryPolicyTests
{
    [Theory]
    [InlineData(0, 1.0, 100)]
    [InlineData(1, 1.0, 200)]
    [InlineData(3, 0.5, 400)]
    [InlineData(10, 1.0, 5000)]
    [InlineData(100, 1.0, 5000)]
    [InlineData(2, 0.0, 0)]
    public void Delay_IsCappedExponentialWithJitter(int attempt, double draw, double expectedMs)
    {
        Assert.Equal(expectedMs, RetryPolicy.Default.Delay(attempt, draw).TotalMilliseconds, 3);
    }
}

public class BatchResponseTests
{
    [Fact]
    public void Write_NoFailures_IsAnEmptyList()
    {
        Assert.Equal("""{"batchItemFailures":[]}""", System.Text.Encoding.UTF8.GetString(BatchResponse.Write([])));
    }

    [Fact]
    public void Write_Failure_UsesKafkaItemIdentifierShape()
    {
        var json = System.Text.Encoding.UTF8.GetString(BatchResponse.Write([("mytopic-0", 1)]));

        Assert.Equal("""{"batchItemFailures":[{"itemIdentifier":{"topic-partition":"mytopic-0","offset":1}}]}""", json);
    }
}

public class GiveUpAtTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void GiveUpAt_LongTimeout_KeepsTheConfiguredMargin()
    {
        Assert.Equal(Now + TimeSpan.FromSeconds(57), InvocationBudget.GiveUpAtFor(Now + TimeSpan.FromSeconds(60), Now, TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public void GiveUpAt_ShortTimeout_KeepsAQuarterSoRetriesStillHappen()
    {
        Assert.Equal(Now + TimeSpan.FromSeconds(3), InvocationBudget.GiveUpAtFor(Now + TimeSpan.FromSeconds(4), Now, TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public void GiveUpAt_DeadlinePassed_IsTheDeadline()
    {
        Assert.Equal(Now - TimeSpan.FromSeconds(1), InvocationBudget.GiveUpAtFor(Now - TimeSpan.FromSeconds(1), Now, TimeSpan.FromSeconds(3)));
    }
}
