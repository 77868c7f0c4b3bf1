using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;





namespace MskClickHouse.Core.Routing;

/// <summary>
/// Pure mapping from a topic to where and how its records are written: the table
/// (<see cref="SinkOptions.RouteOf"/>), the value format (<see cref="SinkOptions.FormatOf"/>) and the table's metadata
/// columns (found by the caller, e.g. with <see cref="ColumnSet.MetadataOf"/> over the table's column names).
/// </summary>
public sealed class TopicRouter
{
    private readonly SinkOptions options;

    public TopicRouter(SinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options;
    }

    /// <summary>The table a topic's records go to.</summary>
    public TableName TableOf(string topic) => options.RouteOf(topic);

    /// <summary>The shape the row encoder needs for <paramref name="topic"/>, given the metadata columns its table has.</summary>
    public TableShape ShapeFor(string topic, MetadataColumns metadataOfTable)
    {
        ArgumentNullException.ThrowIfNull(topic);
        return new TableShape(options.RouteOf(topic), metadataOfTable, options.FormatOf(topic), options.StringColumn) { ChangeEvents = options.ChangeEventsOf(topic) };
    }

    /// <summary>The shape for <paramref name="topic"/> from the table's column names.</summary>
    public TableShape ShapeFor(string topic, IEnumerable<string> columnNamesOfTable) =>
        ShapeFor(topic, ColumnSet.MetadataOf(columnNamesOfTable));
}
