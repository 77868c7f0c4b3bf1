using System.Globalization;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Replay;

/// <summary>
/// What a replay invocation asks for: <c>{"table": "db.t", "errorContains": "...", "limit": N}</c>. The table is
/// required; <c>errorContains</c> keeps the dead letters whose reason contains it (case-sensitive); <c>limit</c> caps
/// how many dead letters this invocation takes (default <see cref="DefaultLimit"/>, at most <see cref="MaxLimit"/>).
/// </summary>
public sealed record ReplayRequest(TableName Table, string? ErrorContains, int Limit)
{
    public const int DefaultLimit = 1000;

    /// <summary>One insert per dead letter (ReplayToken): more than this in one invocation risks the Lambda timeout.</summary>
    public const int MaxLimit = 10_000;

    /// <summary>Parses the payload; every problem names the field and what it expected. Pure.</summary>
    public static ReplayRequest Parse(ReadOnlySpan<byte> payload, string defaultDatabase)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(payload.ToArray());
        }
        catch (JsonException e)
        {
            throw new ReplayRequestException("payload", $"not valid JSON ({e.Message}); expected {Shape}");
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ReplayRequestException("payload", $"is {Describe(root.ValueKind)}; expected {Shape}");
            }

            string? table = null;
            string? errorContains = null;
            var limit = DefaultLimit;
            foreach (var p in root.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "table":
                        table = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : throw new ReplayRequestException("table", $"is {Describe(p.Value.ValueKind)}; expected a string \"database.table\"");
                        break;
                    case "errorContains":
                        errorContains = p.Value.ValueKind switch
                        {
                            JsonValueKind.String => p.Value.GetString(),
                            JsonValueKind.Null => null,
                            _ => throw new ReplayRequestException("errorContains", $"is {Describe(p.Value.ValueKind)}; expected a string"),
                        };
                        break;
                    case "limit":
                        if (p.Value.ValueKind == JsonValueKind.Null)
                        {
                            break;
                        }

                        if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out limit) || limit < 1 || limit > MaxLimit)
                        {
                            throw new ReplayRequestException("limit", string.Create(CultureInfo.InvariantCulture, $"is {p.Value.GetRawText()}; expected an integer from 1 to {MaxLimit}"));
                        }

                        break;
                    default:
                        throw new ReplayRequestException(p.Name, $"is not a field of a replay request; expected {Shape}");
                }
            }

            if (string.IsNullOrWhiteSpace(table))
            {
                throw new ReplayRequestException("table", "is required: the target table whose dead letters to replay, e.g. {\"table\": \"default.orders\"}");
            }

            TableName name;
            try
            {
                name = TableName.Parse(table, defaultDatabase);
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                throw new ReplayRequestException("table", $"'{table}' is not a table name: {e.Message}");
            }

            if (name == Routing.TopicRoutes.UnroutedTable(name.Database))
            {
                throw new ReplayRequestException("table", $"'{table}' holds unrouted dead letters, which no replay takes (a replay goes to one table; they had none): after adding their rule to ROUTES, send them through the sink again (docs/operations.md, \"Unrouted dead letters\")");
            }

            return new ReplayRequest(name, string.IsNullOrEmpty(errorContains) ? null : errorContains, limit);
        }
    }

    private const string Shape = "{\"table\": \"db.t\", \"errorContains\": \"...\", \"limit\": N} (table required)";

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
