using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Hosting;





namespace MskClickHouse.Core.Tests.Hosting;

public sealed class InvocationAnswerTests
{
    private static readonly UndeliveredPartition Orders3 = new("orders.v2", 3, "orders.v2-3", 40, 57);
    private static readonly UndeliveredPartition Clicks0 = new("clicks", 0, "clicks-0", 7, 7);

    [Fact]
    public void Provisioned_UndeliveredPartitions_AreThePartialBatchResponse() =>
        Assert.Equal(
            """{"batchItemFailures":[{"itemIdentifier":{"topic-partition":"orders.v2-3","offset":40}},{"itemIdentifier":{"topic-partition":"clicks-0","offset":7}}]}""",
            System.Text.Encoding.UTF8.GetString(InvocationAnswer.For(PollerMode.Provisioned, [Orders3, Clicks0])));

    [Theory]
    [InlineData(PollerMode.Provisioned)]
    [InlineData(PollerMode.OnDemand)]
    public void EverythingDelivered_IsAnEmptyFailureList(PollerMode mode) =>
        Assert.Equal("""{"batchItemFailures":[]}""", System.Text.Encoding.UTF8.GetString(InvocationAnswer.For(mode, [])));

    [Fact]
    public void OnDemand_UndeliveredPartitions_FailTheInvocationNamingEachTopicPartitionAndOffsets()
    {
        var e = Assert.Throws<UndeliveredPartitionsException>(() => InvocationAnswer.For(PollerMode.OnDemand, [Orders3, Clicks0]));

        Assert.Equal([Orders3, Clicks0], e.Partitions);
        Assert.True(e.IsRetryable);
        Assert.Contains("2 partition(s) not delivered", e.Message, StringComparison.Ordinal);
        Assert.Contains("topic orders.v2 partition 3 from offset 40 (to 57)", e.Message, StringComparison.Ordinal);
        Assert.Contains("topic clicks partition 0 from offset 7 (to 7)", e.Message, StringComparison.Ordinal);
        Assert.Contains("POLLER_MODE=ON_DEMAND", e.Message, StringComparison.Ordinal);
    }
}
