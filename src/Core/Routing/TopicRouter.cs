using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Routing;

/// <summary>
/// Pure mapping from a topic to where and how its records are written: the route (<see cref="Route"/>: TOPIC_TABLES,
/// else the table named like the topic or none per DEFAULT_ROUTE, always through <see cref="RouteGuard"/>), the value
/// format (<see cref="SinkOptions.FormatOf"/>) and the table's metadata columns (found by the caller, e.g. with
/// <see cref="ColumnSet.MetadataOf"/> over the table's column names).
/// </summary>
public sealed class TopicRouter
{
    private readonly SinkOptions options;
    private readonly RouteGuard guard;

    public TopicRouter(SinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options;
        guard = new RouteGuard(options);
    }

    /// <summary>Where <paramref name="topic"/>'s records go, checked by the guard.</summary>
    public Route Route(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        var listed = options.TopicTables.ContainsKey(topic);
        var table = options.RouteOf(topic);
        if (!listed && options.DefaultRoute == DefaultRoute.None)
        {
            return new Route(RouteKind.Unrouted, table, $"no route for topic '{topic}': DEFAULT_ROUTE=none and TOPIC_TABLES has no entry for it");
        }

        return guard.Refusal(topic, table) is { } refusal
            ? new Route(RouteKind.Refused, table, refusal)
            : new Route(RouteKind.Table, table);
    }

    /// <summary>The table a topic's records go to (before the guard: <see cref="Route"/> decides whether they may).</summary>
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
