using System.Text.Json.Nodes;
using NJsonSchema;
using NJsonSchema.Validation;

namespace MskClickHouse.Template.Tests;

/// <summary>The official SAM JSON schema (draft-04), copied into Fixtures/ (see Fixtures/README.md).</summary>
public static class SamSchema
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.FromJsonAsync(File.ReadAllText(Repo.Fixture("sam.schema.json"))).GetAwaiter().GetResult());

    public static List<string> Validate(JsonObject template)
    {
        var errors = Schema.Value.Validate(template.ToJsonString());
        return errors.SelectMany(e => Describe(e, 0)).Distinct().ToList();
    }

    /// <summary>Flattens NJsonSchema errors; for anyOf/oneOf it reports the branch with the fewest errors (the one meant).</summary>
    private static IEnumerable<string> Describe(ValidationError error, int depth)
    {
        if (error is ChildSchemaValidationError child && child.Errors.Count > 0 && depth < 8)
        {
            var best = child.Errors.Values.MinBy(v => v.Count)!;
            if (best.Count > 0)
            {
                return best.SelectMany(e => Describe(e, depth + 1));
            }
        }

        return [$"{error.Kind} at {error.Path ?? "#"}{(error.Property is null ? "" : $" ({error.Property})")}"];
    }
}
