using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Tests.Rows;

/// <summary><see cref="RowSizes.Share"/>: a table's first buffer guess from its partition's sizes, without a pass over its records.</summary>
public sealed class RowSizesTests
{
    private static readonly RowSizes Partition = new() { Records = 100, ValueBytes = 45_000, KeyBytes = 1_000, HeaderBytes = 3_000 };

    [Fact]
    public void Share_OfAPart_IsThatPartOfTheBytes_AndAnEighthMore()
    {
        var share = Partition.Share(20);

        Assert.Equal(20, share.Records);
        Assert.Equal(10_125, share.ValueBytes); // 45,000 × 20/100 × 1.125
        Assert.Equal(225, share.KeyBytes);
        Assert.Equal(675, share.HeaderBytes);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(150)]
    public void Share_OfEveryRecord_IsTheWholeSizes(int records) => Assert.Equal(Partition, Partition.Share(records));

    [Fact]
    public void Share_OfNothing_IsEmpty()
    {
        Assert.Equal(default, default(RowSizes).Share(0));
        Assert.Equal(0, Partition.Share(0).ValueBytes);
    }
}
