using System.Collections.Frozen;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Routing;

namespace MskClickHouse.Core.Tests.Routing;

public sealed class RoutingTests
{
    private static SinkOptions Options() => new()
    {
        ClickHouseUrl = new Uri("http://localhost:8123"),
        Database = "analytics",
        DeadLetterTable = new TableName("analytics", "dlq"),
        StateTable = new TableName("analytics", "state"),
        SinkId = "sink",
        TopicTables = new Dictionary<string, TableName> { ["orders"] = new("sales", "order_rows") }.ToFrozenDictionary(),
        TopicValueFormats = new Dictionary<string, ValueFormat> { ["logs"] = ValueFormat.String }.ToFrozenDictionary(),
        StringColumn = "line",
    };

    [Fact]
    public void ShapeFor_RoutedTopic_UsesItsTableAndTheDefaultFormat()
    {
        var shape = new TopicRouter(Options()).ShapeFor("orders", MetadataColumns.Offset);
        Assert.Equal(new TableName("sales", "order_rows"), shape.Table);
        Assert.Equal(ValueFormat.Json, shape.Format);
        Assert.Equal(MetadataColumns.Offset, shape.Metadata);
        Assert.Equal("line", shape.StringColumn);
    }

    [Fact]
    public void ShapeFor_UnroutedTopic_GoesToTheTableNamedLikeTheTopic()
    {
        var shape = new TopicRouter(Options()).ShapeFor("logs", ["_topic", "_partition", "_offset", "line"]);
        Assert.Equal(new TableName("analytics", "logs"), shape.Table);
        Assert.Equal(ValueFormat.String, shape.Format);
        Assert.True(shape.HasOffsetColumns);
    }

    [Fact]
    public void MetadataOf_FindsEveryMetadataColumnExactly()
    {
        Assert.Equal(MetadataColumnSets.ClickPipes, ColumnSet.MetadataOf(["id", "_topic", "_partition", "_offset", "_timestamp", "_timestamp_type", "_key", "_headers"]));
        Assert.Equal(MetadataColumns.None, ColumnSet.MetadataOf(["id", "_TOPIC", "topic", "_offsets", "_"]));
        Assert.Equal(MetadataColumns.Timestamp | MetadataColumns.Key, ColumnSet.MetadataOf(["_key", "_timestamp"]));
    }

    [Fact]
    public void NamesOf_ListsTheColumnsOfTheFlags()
    {
        Assert.Equal(["_partition", "_headers"], ColumnSet.NamesOf(MetadataColumns.Headers | MetadataColumns.Partition));
        Assert.Equal("_timestamp_type", ColumnSet.NameOf(MetadataColumns.TimestampType));
        Assert.Equal(MetadataColumns.Key, ColumnSet.FlagOf("_key"u8));
    }
}
