using System.Collections.Concurrent;
using System.Collections.Frozen;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Routing;

/// <summary>
/// Where and how a topic's records are written: its routes (the ROUTES and TOPIC_TABLES rules naming it, else the table
/// named like it), the split of a partition among them (<see cref="PartitionRouter"/>), and each table's shape for the
/// row encoder. Every table a route resolves to passes <see cref="SinkOptions.Guard"/>: a configured one at start-up
/// (the parser), one named like a topic here (refused: the topic's records are unrouted).
/// </summary>
public sealed class TopicRouter
{
    private readonly SinkOptions options;
    private readonly FrozenDictionary<string, TopicRoutes> configured;
    private readonly ConcurrentDictionary<string, TopicRoutes> byName = new(StringComparer.Ordinal);

    public TopicRouter(SinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options;
        configured = options.Routes.GroupBy(r => r.Topic, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => new TopicRoutes(g.Key, g.ToList(), options.RouteOf(g.Key)), StringComparer.Ordinal);
    }

    /// <summary>The compiled routes of <paramref name="topic"/>.</summary>
    public TopicRoutes RoutesOf(string topic) =>
        configured.TryGetValue(topic, out var routes) ? routes : byName.GetOrAdd(topic, NamedLike);

    /// <summary>The tables a topic's records may go to.</summary>
    public IReadOnlyList<TableName> TablesOf(string topic) => RoutesOf(topic).Tables;

    /// <summary>The table of a topic without content routes (TOPIC_TABLES, else the table named like it).</summary>
    public TableName TableOf(string topic) => options.RouteOf(topic);

    /// <summary>Splits one partition's records among its topic's tables (<see cref="PartitionRouter.Route"/>).</summary>
    public PartitionRouting Route(KafkaBatch batch, PartitionRecords partition, ValueJson? json = null)
    {
        ArgumentNullException.ThrowIfNull(partition);
        return PartitionRouter.Route(batch, partition, RoutesOf(partition.Topic), options.Tombstones, options.Unrouted, json);
    }

    /// <summary>The shape the row encoder needs for <paramref name="topic"/>'s records in <paramref name="table"/>.</summary>
    public TableShape ShapeFor(string topic, TableName table, MetadataColumns metadataOfTable)
    {
        ArgumentNullException.ThrowIfNull(topic);
        return new TableShape(table, metadataOfTable, options.FormatOf(topic), options.StringColumn);
    }

    /// <summary>The shape for <paramref name="topic"/> in <see cref="TableOf"/>, given the metadata columns its table has.</summary>
    public TableShape ShapeFor(string topic, MetadataColumns metadataOfTable) => ShapeFor(topic, TableOf(topic), metadataOfTable);

    /// <summary>The shape for <paramref name="topic"/> in <see cref="TableOf"/> from the table's column names.</summary>
    public TableShape ShapeFor(string topic, IEnumerable<string> columnNamesOfTable) => ShapeFor(topic, TableOf(topic), ColumnSet.MetadataOf(columnNamesOfTable));

    /// <summary>The shape for <paramref name="topic"/> in <paramref name="table"/> from the table's column names.</summary>
    public TableShape ShapeFor(string topic, TableName table, IEnumerable<string> columnNamesOfTable) =>
        ShapeFor(topic, table, ColumnSet.MetadataOf(columnNamesOfTable));

    /// <summary>A topic no rule names: the table named like it, unless the guard refuses that table.</summary>
    private TopicRoutes NamedLike(string topic)
    {
        var table = options.RouteOf(topic);
        return options.Guard.Refusal(table) is { } refusal
            ? new TopicRoutes(topic, refusal)
            : new TopicRoutes(topic, [new RouteRule(topic, table, null, -1)], table);
    }
}
