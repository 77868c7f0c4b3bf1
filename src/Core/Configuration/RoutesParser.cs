using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Errors;

namespace MskClickHouse.Core.Configuration;

/// <summary>
/// Parses ROUTES, a JSON array of <c>{"topic": T, "table": X, "where": W}</c> rules (docs/configuration.md, "Routing").
/// Pure. Every error is a <see cref="ConfigurationException"/> for ROUTES naming the rule (<c>ROUTES[i]</c>) and the
/// problem; a value is repeated only when it is a name (topic, table, header, field), never a whole rule.
/// </summary>
public static class RoutesParser
{
    private const string Variable = "ROUTES";

    public static List<RouteRule> Parse(string? value, string database)
    {
        var rules = new List<RouteRule>();
        if (value is null)
        {
            return rules;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(value, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new ConfigurationException(Variable, $"not valid JSON ({e.Message}): expected an array of {{\"topic\",\"table\",\"where\"}} rules");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new ConfigurationException(Variable, $"expected a JSON array of {{\"topic\",\"table\",\"where\"}} rules, got a JSON {Kind(document.RootElement)}");
            }

            var index = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                rules.Add(ParseRule(element, index++, database));
            }
        }

        return rules;
    }

    private static RouteRule ParseRule(JsonElement rule, int index, string database)
    {
        var at = $"rule {index} (ROUTES[{index}])";
        if (rule.ValueKind != JsonValueKind.Object)
        {
            throw new ConfigurationException(Variable, $"{at} is a JSON {Kind(rule)}: expected an object {{\"topic\",\"table\",\"where\"}}");
        }

        string? topic = null, table = null;
        RouteCondition? where = null;
        foreach (var member in rule.EnumerateObject())
        {
            switch (member.Name)
            {
                case "topic":
                    topic = Text(member.Value, at, "topic");
                    break;
                case "table":
                    table = Text(member.Value, at, "table");
                    break;
                case "where":
                    where = ParseWhere(member.Value, at);
                    break;
                default:
                    throw new ConfigurationException(Variable, $"{at} has an unknown member '{member.Name}': a rule has topic, table and an optional where");
            }
        }

        if (topic is null)
        {
            throw new ConfigurationException(Variable, $"{at} has no topic: name the Kafka topic whose records it routes");
        }

        if (table is null)
        {
            throw new ConfigurationException(Variable, $"{at} (topic '{topic}') has no table: name the table (table or database.table) it routes to");
        }

        TableName parsed;
        try
        {
            parsed = TableName.Parse(table, database);
        }
        catch (FormatException e)
        {
            throw new ConfigurationException(Variable, $"{at} (topic '{topic}'): {e.Message}");
        }

        return new RouteRule(topic, parsed, where, index);
    }

    private static RouteCondition ParseWhere(JsonElement where, string at)
    {
        const string Shapes = "expected {\"header\": NAME, \"equals\": VALUE}, {\"key\": \"equals\"|\"prefix\", \"value\": V} or {\"field\": NAME, \"equals\": VALUE}";
        if (where.ValueKind != JsonValueKind.Object)
        {
            throw new ConfigurationException(Variable, $"{at}: where is a JSON {Kind(where)}: {Shapes}");
        }

        var members = where.EnumerateObject().ToList();
        var names = members.Select(m => m.Name).Order(StringComparer.Ordinal).ToList();
        JsonElement Get(string name) => members.First(m => m.Name == name).Value;
        return names switch
        {
            ["equals", "header"] => new HeaderEquals(Name(Get("header"), at, "where.header"), Text(Get("equals"), at, "where.equals")),
            ["key", "value"] => new KeyMatches(KeyKind(Get("key"), at), Text(Get("value"), at, "where.value")),
            ["equals", "field"] => new FieldEquals(Name(Get("field"), at, "where.field"), FieldValue(Get("equals"), at)),
            _ => throw new ConfigurationException(Variable, $"{at}: where has {(names.Count == 0 ? "no members" : "members " + string.Join(", ", names))}: {Shapes}"),
        };
    }

    private static bool KeyKind(JsonElement kind, string at) => Text(kind, at, "where.key") switch
    {
        "equals" => false,
        "prefix" => true,
        var other => throw new ConfigurationException(Variable, $"{at}: where.key is '{other}': expected \"equals\" or \"prefix\""),
    };

    /// <summary>A field is compared as text: a string, a number or a boolean as its JSON text (<c>5</c> is <c>"5"</c>).</summary>
    private static string FieldValue(JsonElement value, string at) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        _ => throw new ConfigurationException(Variable, $"{at}: where.equals is a JSON {Kind(value)}: expected a string, a number or a boolean"),
    };

    private static string Name(JsonElement value, string at, string member)
    {
        var text = Text(value, at, member);
        return text.Length > 0 ? text : throw new ConfigurationException(Variable, $"{at}: {member} is empty");
    }

    private static string Text(JsonElement value, string at, string member)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            throw new ConfigurationException(Variable, $"{at}: {member} is a JSON {Kind(value)}: expected a string");
        }

        var text = value.GetString()!;
        if (member is "topic" or "table" && text.Trim().Length == 0)
        {
            throw new ConfigurationException(Variable, $"{at}: {member} is empty");
        }

        return member is "topic" or "table" ? text.Trim() : text;
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };
}
