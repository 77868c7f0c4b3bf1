using System.IO.Compression;
using System.Text.Json;

namespace MskClickHouse.Template.Tests;

/// <summary>
/// The CloudFormation resource specification from <c>@aws-cdk/aws-service-spec</c>'s <c>db.json.gz</c>
/// (installed by scripts/install-cfn-spec.sh). Structure used here:
/// <c>schema.resource.entities[]</c> = { cloudFormationType, properties: {Name: {type, required?}}, attributes: {Name: ...} };
/// <c>schema.typeDefinition.entities[]</c> = { $id, name, properties } for nested property types;
/// a property type is {type: string|integer|number|boolean|json|date-time|tag|array|map|ref|union, element?, reference.$ref?, types?}.
/// </summary>
public sealed class CfnSpec
{
    public const string Version = "0.1.216";
    public const string InstallScript = "scripts/install-cfn-spec.sh";

    private readonly Dictionary<string, JsonElement> resources;
    private readonly Dictionary<string, JsonElement> types;

    private CfnSpec(JsonDocument doc)
    {
        var schema = doc.RootElement.GetProperty("schema");
        resources = schema.GetProperty("resource").GetProperty("entities").EnumerateArray()
            .ToDictionary(e => e.GetProperty("cloudFormationType").GetString()!, e => e, StringComparer.Ordinal);
        types = schema.GetProperty("typeDefinition").GetProperty("entities").EnumerateArray()
            .ToDictionary(e => e.GetProperty("$id").GetString()!, e => e, StringComparer.Ordinal);
    }

    public int ResourceTypeCount => resources.Count;

    /// <summary>$CFN_SPEC_DB, else ${MSK_CLICKHOUSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/msk-clickhouse}/aws-service-spec/VERSION/db.json.gz.</summary>
    public static string DefaultPath()
    {
        var fromEnv = Environment.GetEnvironmentVariable("CFN_SPEC_DB");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }

        var project = Environment.GetEnvironmentVariable("MSK_CLICKHOUSE_CACHE");
        if (string.IsNullOrEmpty(project))
        {
            var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            if (string.IsNullOrEmpty(cache))
            {
                cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            }

            project = Path.Combine(cache, "msk-clickhouse");
        }

        return Path.Combine(project, "aws-service-spec", Version, "db.json.gz");
    }

    private static readonly Lazy<CfnSpec> Shared = new(() => Load(DefaultPath()));

    /// <summary>The installed spec; throws (so the test fails, never skips) with the install command when missing.</summary>
    public static CfnSpec Installed => Shared.Value;

    public static CfnSpec Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"CloudFormation resource spec not found at '{path}'. Run `{InstallScript}` from the repository root " +
                "(test.sh runs every scripts/install-*.sh), or point CFN_SPEC_DB at a db.json.gz from " +
                $"@aws-cdk/aws-service-spec@{Version}.", path);
        }

        using var file = File.OpenRead(path);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        return new CfnSpec(JsonDocument.Parse(gz));
    }

    public bool HasResourceType(string type) => resources.ContainsKey(type);

    public bool TryGetProperties(string resourceType, out JsonElement properties)
    {
        properties = default;
        return resources.TryGetValue(resourceType, out var r) && r.TryGetProperty("properties", out properties);
    }

    public IReadOnlyCollection<string> Attributes(string resourceType) =>
        resources.TryGetValue(resourceType, out var r) && r.TryGetProperty("attributes", out var attrs)
            ? attrs.EnumerateObject().Select(a => a.Name).ToHashSet(StringComparer.Ordinal)
            : [];

    public bool TryGetTypeDefinition(string id, out JsonElement definition) => types.TryGetValue(id, out definition);
}
