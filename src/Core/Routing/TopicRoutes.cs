using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;

namespace MskClickHouse.Core.Routing;

/// <summary>
/// The routes of one topic, compiled once: its target tables (distinct, in rule order), for each the conditions of
/// which any one sends it a record (none: it takes every record), and the distinct field names the conditions read, so
/// a record's value is scanned once per field name whatever the number of rules.
/// </summary>
public sealed class TopicRoutes
{
    /// <param name="home">The table the topic's state has always been kept for: TOPIC_TABLES's, else the table named like it.</param>
    public TopicRoutes(string topic, IReadOnlyList<RouteRule> rules, TableName? home = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        Topic = topic;
        Home = home;
        Rules = rules;
        var tables = new List<TableName>();
        var conditions = new List<List<RouteCondition>?>();
        foreach (var rule in rules)
        {
            var at = tables.IndexOf(rule.Table);
            if (at < 0)
            {
                tables.Add(rule.Table);
                conditions.Add([]);
                at = tables.Count - 1;
            }

            if (rule.Where is null)
            {
                conditions[at] = null; // takes all: its other conditions change nothing
            }
            else
            {
                conditions[at]?.Add(rule.Where);
            }
        }

        Tables = tables;
        StateTopics = tables.Select(t => StateTopic(topic, t, home)).ToList();
        Conditions = conditions.Select(c => (IReadOnlyList<RouteCondition>?)c).ToList();
        TakesAll = Conditions.All(c => c is null);
        Fields = Conditions.Where(c => c is not null).SelectMany(c => c!).OfType<FieldEquals>()
            .Select(f => f.Name).Distinct(StringComparer.Ordinal).ToList();
        FieldsUtf8 = Fields.Select(System.Text.Encoding.UTF8.GetBytes).ToArray();
        Matcher = new RouteMatcher(Conditions, Fields);
    }

    /// <summary>Routes no rule names, with a refusal: every record of the topic is unrouted for <paramref name="reason"/>.</summary>
    public TopicRoutes(string topic, string reason)
        : this(topic, [])
    {
        Refused = reason;
    }

    public string Topic { get; }

    public IReadOnlyList<RouteRule> Rules { get; }

    /// <summary>The tables the topic's records go to, distinct, in the order their first rule appears.</summary>
    public IReadOnlyList<TableName> Tables { get; }

    /// <summary>
    /// Per table (same index as <see cref="Tables"/>): the name its delivery state and tokens are kept under. The home
    /// table keeps the topic's own name, so a deployment from before routing keeps its state and tokens; every other
    /// table gets <c>topic@database.table</c> ('@' is not a character of Kafka topic names), so each (table, partition)
    /// has a plan, tokens and dead letters of its own (docs/exactly-once.md, "Routing").
    /// </summary>
    public IReadOnlyList<string> StateTopics { get; }

    /// <summary>The table whose state keeps the topic's bare name (null: none given).</summary>
    public TableName? Home { get; }

    /// <summary>Per table (same index as <see cref="Tables"/>): the conditions of which any sends a record there; null: all records.</summary>
    public IReadOnlyList<IReadOnlyList<RouteCondition>?> Conditions { get; }

    /// <summary>Every table takes every record: routing is by topic only, nothing of a record is read.</summary>
    public bool TakesAll { get; }

    /// <summary>The distinct top-level field names the conditions compare.</summary>
    public IReadOnlyList<string> Fields { get; }

    /// <summary>The name the state and tokens of <paramref name="table"/>'s deliveries of <paramref name="topic"/> are kept under.</summary>
    public static string StateTopic(string topic, TableName table, TableName? home)
    {
        ArgumentNullException.ThrowIfNull(table);
        return table == home ? topic : topic + "@" + table;
    }

    /// <summary>
    /// The target_table of unrouted records' dead letters, and the table part of their state name: no route resolves to
    /// it (parentheses: not a name anyone gives a table by accident) and no replay or audit reads it as a table.
    /// </summary>
    public static TableName UnroutedTable(string database) => new(database, "(unrouted)");

    /// <summary>
    /// The topic and table a state name was kept for: <c>topic@database.table</c> names both; a bare topic names the
    /// topic's home table, which only the options know (null here).
    /// </summary>
    public static (string Topic, TableName? Table) OfStateTopic(string stateTopic, string database)
    {
        ArgumentNullException.ThrowIfNull(stateTopic);
        var at = stateTopic.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? (stateTopic, null) : (stateTopic[..at], TableName.Parse(stateTopic[(at + 1)..], database));
    }

    /// <summary><see cref="Fields"/> as UTF-8.</summary>
    public IReadOnlyList<byte[]> FieldsUtf8 { get; }

    /// <summary>The index in <see cref="Fields"/> of the field <paramref name="condition"/> reads.</summary>
    public int FieldIndex(FieldEquals condition)
    {
        ArgumentNullException.ThrowIfNull(condition);
        for (var i = 0; i < Fields.Count; i++)
        {
            if (Fields[i] == condition.Name)
            {
                return i;
            }
        }

        throw new ArgumentException($"field '{condition.Name}' is not a field of topic '{Topic}''s routes", nameof(condition));
    }

    /// <summary><see cref="Conditions"/> compiled into one lookup per field, header name and key test: what the split asks per record.</summary>
    internal RouteMatcher Matcher { get; }

    /// <summary>Why the topic has no table at all (the guard refused the table named like it), else null.</summary>
    public string? Refused { get; }
}
