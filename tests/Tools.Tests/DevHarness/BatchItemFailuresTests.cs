using MskClickHouse.DevHarness;

namespace MskClickHouse.Tools.Tests.DevHarness;

public sealed class BatchItemFailuresTests
{
    [Fact]
    public void Parse_PartialBatchResponse_ListsEveryFailedPartitionInAnswerOrder()
    {
        var answer = """{"batchItemFailures":[{"itemIdentifier":{"topic-partition":"orders-1","offset":17}},{"itemIdentifier":{"topic-partition":"clicks-0","offset":3}}]}"""u8;

        Assert.Equal([("orders-1", 17L), ("clicks-0", 3L)], BatchItemFailures.Parse(answer));
    }

    [Fact]
    public void Parse_NothingToRetry_IsEmpty()
    {
        Assert.Empty(BatchItemFailures.Parse(System.Text.Encoding.UTF8.GetBytes(BatchItemFailures.None)));
        Assert.Empty(BatchItemFailures.Parse("{}"u8));
    }
}
