using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Evolution;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Tests.Evolution;

public sealed class NewFieldScanTests
{
    private static readonly TableName Table = new("db", "events");

    private static EncodedPartition Partition(Func<long, string> row, int count, ValueFormat format = ValueFormat.Json)
    {
        var body = new List<byte>();
        var starts = new List<int>();
        for (var o = 0; o < count; o++)
        {
            starts.Add(body.Count);
            body.AddRange(Encoding.UTF8.GetBytes(row(o) + "\n"));
        }

        starts.Add(body.Count);
        return new EncodedPartition(new PartitionRecords("orders", 2, "orders-2", [], 0), new TableShape(Table, MetadataColumns.Offset, format, "value"), body.ToArray(), [.. starts], [.. Enumerable.Range(0, count).Select(o => (long)o + 100)], [], 0);
    }

    private static readonly KnownColumns Known = new(["id", "amount", "n.x", "_offset"], importNestedJson: false);

    [Fact]
    public void Scan_ChecksEveryRow_ReportsEachUnknownFieldOnceWithItsFirstRowAndItsValuesType()
    {
        using var p = Partition(o => o switch
        {
            7 => """{"_offset":107,"id":7,"color":"red"}""",
            9 => """{"_offset":109,"ID":9,"color":"blue","qty":3,"tags":[1],"obj":{"a":1},"ok":false,"gone":null}""",
            _ => $$"""{"_offset":{{o + 100}},"id":{{o}},"n.x":[1]}""",
        }, 12);

        var found = NewFieldScan.Scan(p, Known, SchemaColumnTypes.None);

        Assert.Equal(
            [
                new NewField("color", "String", "orders", 2, 107),
                new NewField("gone", null, "orders", 2, 109),
                new NewField("obj", "String", "orders", 2, 109),
                new NewField("ok", "Bool", "orders", 2, 109),
                new NewField("qty", "Int64", "orders", 2, 109),
                new NewField("tags", "String", "orders", 2, 109),
            ],
            found.Values.OrderBy(f => f.Name, StringComparer.Ordinal));
    }

    [Fact]
    public void Scan_IntegersAndFloatsOfOneField_MakeFloat64_OtherMixesKeepTheFirstType()
    {
        using var p = Partition(o => o switch
        {
            0 => """{"w":1,"s":"a","b":true}""",
            1 => """{"w":2.5,"s":5,"b":"yes"}""",
            _ => """{"w":null}""",
        }, 3);

        var found = NewFieldScan.Scan(p, Known, SchemaColumnTypes.None);

        Assert.Equal(("Float64", "String", "Bool"), (found["w"].Type, found["s"].Type, found["b"].Type));
    }

    [Fact]
    public void Scan_NamesMatchCaseInsensitively_MetadataNamesAreNeverNewFields_EscapedNamesAreUnescaped()
    {
        using var p = Partition(_ => """{"AMOUNT":1,"_key":"k","_timestamp":"x","\u0063olor":"r"}""", 1);

        var found = NewFieldScan.Scan(p, Known, SchemaColumnTypes.None);

        Assert.Equal(["color"], found.Keys);
    }

    [Fact]
    public void Scan_TakesTheTypeFromTheSchemaWhenItHasTheField()
    {
        using var p = Partition(_ => """{"id":1,"seen":"2024-01-01T00:00:00.000Z","coupon":null}""", 1);

        var found = NewFieldScan.Scan(p, Known, new Dictionary<string, string?> { ["seen"] = "DateTime64(3, 'UTC')", ["coupon"] = "String" });

        Assert.Equal(("DateTime64(3, 'UTC')", "String"), (found["seen"].Type, found["coupon"].Type));
    }

    [Fact]
    public void Scan_StringFormat_HasNoNewFields()
    {
        using var p = Partition(_ => """{"value":"x","other":1}""", 1, ValueFormat.String);

        Assert.Empty(NewFieldScan.Scan(p, Known, SchemaColumnTypes.None));
    }

    [Fact]
    public void KnownColumns_WithImportNestedJson_ANestedColumnReceivesItsParentField()
    {
        Assert.False(new KnownColumns(["n.x"], importNestedJson: false).Receives("n"));
        Assert.True(new KnownColumns(["n.x"], importNestedJson: true).Receives("n"));
        Assert.True(new KnownColumns(["n.x"], importNestedJson: false).Receives("N.X"));
    }

    [Fact]
    public void Merge_KeepsTheFirstSighting_AndWidensTheType()
    {
        var into = new Dictionary<string, NewField>(StringComparer.OrdinalIgnoreCase) { ["w"] = new("w", "Int64", "t", 0, 5) };

        NewFieldScan.Merge(into, new Dictionary<string, NewField> { ["W"] = new("W", "Float64", "t", 1, 1), ["z"] = new("z", null, "t", 1, 2) });

        Assert.Equal([new NewField("w", "Float64", "t", 0, 5), new NewField("z", null, "t", 1, 2)], into.Values);
    }
}
