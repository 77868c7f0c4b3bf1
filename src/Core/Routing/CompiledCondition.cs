using MskClickHouse.Core.Configuration;

namespace MskClickHouse.Core.Routing;

/// <summary>A condition of a topic's routes with the index in <see cref="TopicRoutes.Fields"/> of the field it reads (-1: none).</summary>
internal readonly record struct CompiledCondition(RouteCondition Condition, int Field);
