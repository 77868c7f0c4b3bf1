using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Tests.Delivery;

public class ViewRefillTests
{
    [Theory]
    [InlineData("", true)]
    [InlineData("0\n1\n2\n", true)]
    [InlineData("0\t1764000000\n1\t1764000000\n", true)]
    [InlineData("0\t1764000000\n1\t1764000000\n0\t1765000000\n", false)]
    [InlineData("5\n5\n", false)]
    public void OneRowPerOffset_IsFalseWhenAnOffsetHoldsTwoRows(string answer, bool expected) =>
        Assert.Equal(expected, ViewRefill.OneRowPerOffset(Encoding.ASCII.GetBytes(answer)));

    [Fact]
    public void Sql_ReSendsTheRangeFromTheTableItself_InOffsetOrder_OnlyWhenEachOffsetHoldsOneRow()
    {
        var sql = ViewRefill.Sql(new TableName("db", "t"), MetadataColumns.Topic | MetadataColumns.Partition | MetadataColumns.Offset | MetadataColumns.Source, "src", "orders", 3, new OffsetRange(10, 19));

        Assert.StartsWith("INSERT INTO `db`.`t` SELECT * FROM `db`.`t` WHERE _topic = 'orders' AND _partition = 3 AND _source = 'src' AND _offset BETWEEN 10 AND 19 ", sql, StringComparison.Ordinal);
        Assert.Contains("AND (SELECT count() = uniqExact(_offset) FROM `db`.`t` WHERE _topic = 'orders'", sql, StringComparison.Ordinal);
        Assert.EndsWith("ORDER BY _offset", sql, StringComparison.Ordinal);
    }
}
