using MskClickHouse.Core.Errors;

namespace MskClickHouse.Core.Routing;

/// <summary>A topic whose route <see cref="RouteGuard"/> refused: its partition is not delivered and nothing of it is written.</summary>
public sealed class RouteRefusedException : SinkException
{
    public RouteRefusedException(string reason)
        : base(reason)
    {
    }

    /// <summary>Retrying the same route cannot succeed: the configuration (TOPIC_TABLES, DEFAULT_ROUTE) must change.</summary>
    public override bool IsRetryable => false;
}
