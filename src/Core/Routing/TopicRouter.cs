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
/// row encoder. Before any of that, <see cref="Gate"/> decides whether a topic may be routed at all: every table its
/// routes resolve to passes <see cref="RouteGuard"/> (never the sink's own tables, never another database), and with
/// DEFAULT_ROUTE=none a topic no rule names has no route.
/// </summary>
public sealed class TopicRouter
{
    private readonly SinkOptions options;
    private readonly FrozenDictionary<string, TopicRoutes> configured;
    private readonly ConcurrentDictionary<string, TopicRoutes> byName = new(StringComparer.Ordinal);
    private readonly RouteGuard guard;

    public TopicRouter(SinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options;
        guard = new RouteGuard(options);
        configured = options.Routes.GroupBy(r => r.Topic, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => new TopicRoutes(g.Key, g.ToList(), options.RouteOf(g.Key)), StringComparer.Ordinal);
    }

    /// <summary>
    /// Whether <paramref name="topic"/>'s records may be routed: <see cref="RouteKind.Unrouted"/> when DEFAULT_ROUTE=none
    /// and no rule names it, <see cref="RouteKind.Refused"/> when the guard refuses one of its tables, else
    /// <see cref="RouteKind.Table"/> (its tables: <see cref="TablesOf"/>).
    /// </summary>
    public Route Gate(string topic)
    {
        ArgumentNullException.ThrowIfNull(topic);
        var table = options.RouteOf(topic);
        var named = configured.TryGetValue(topic, out var routes) || options.TopicTables.ContainsKey(topic);
        if (!named && options.DefaultRoute == DefaultRoute.None)
        {
            return new Route(RouteKind.Unrouted, table, $"no route for topic '{topic}': DEFAULT_ROUTE=none and neither TOPIC_TABLES nor ROUTES names it");
        }

        foreach (var t in routes?.Tables ?? [table])
        {
            if (guard.Refusal(topic, t) is { } refusal)
            {
                return new Route(RouteKind.Refused, t, refusal);
            }
        }

        return new Route(RouteKind.Table, table);
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
        return new TableShape(table, metadataOfTable, options.FormatOf(topic), options.StringColumn) { ChangeEvents = options.ChangeEventsOf(topic) };
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
