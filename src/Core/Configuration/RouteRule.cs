using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Configuration;

/// <summary>
/// One rule of ROUTES (or one TOPIC_TABLES pair, a rule without <see cref="Where"/>): the records of
/// <see cref="Topic"/> that <see cref="Where"/> matches go to <see cref="Table"/>. Every matching rule receives the
/// record (fan-out); a rule without a condition takes all of the topic's records.
/// </summary>
/// <param name="Index">The rule's position in ROUTES (0-based), or -1 for a TOPIC_TABLES pair: errors name it.</param>
public sealed record RouteRule(string Topic, TableName Table, RouteCondition? Where, int Index)
{
    /// <summary>How errors and dead-letter reasons name the rule: <c>ROUTES[2]</c> or <c>TOPIC_TABLES 'orders'</c>.</summary>
    public string Origin => Index >= 0 ? $"ROUTES[{Index}]" : $"TOPIC_TABLES '{Topic}'";

    public override string ToString() => Where is null ? $"{Topic} → {Table}" : $"{Topic} where {Where} → {Table}";
}
