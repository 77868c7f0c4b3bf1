using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Routing;

/// <summary>What routing decided for a topic.</summary>
public enum RouteKind
{
    /// <summary>To <see cref="Route.Table"/>.</summary>
    Table,

    /// <summary>No route (DEFAULT_ROUTE=none and no TOPIC_TABLES entry): the records are dead-lettered with <see cref="Route.Reason"/>.</summary>
    Unrouted,

    /// <summary>The route reaches a table no topic may write (<see cref="RouteGuard"/>): nothing is written, the partition is retried.</summary>
    Refused,
}

/// <summary>
/// A topic's route. <see cref="Table"/> is the table the records go to, or, for the other kinds, the table default
/// naming or TOPIC_TABLES named (shown in logs and dead letters).
/// </summary>
public sealed record Route(RouteKind Kind, TableName Table, string? Reason = null);
