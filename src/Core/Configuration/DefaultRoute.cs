namespace MskClickHouse.Core.Configuration;

/// <summary>DEFAULT_ROUTE: where a topic without a TOPIC_TABLES entry goes.</summary>
public enum DefaultRoute
{
    /// <summary><c>topic</c>: to the table named like the topic, in CLICKHOUSE_DATABASE.</summary>
    Topic,

    /// <summary><c>none</c>: only configured topics are accepted; the records of others are dead-lettered ("no route").</summary>
    None,
}
