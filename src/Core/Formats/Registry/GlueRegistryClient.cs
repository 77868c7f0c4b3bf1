using System.Text.Json;
using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.Core.Secrets;

namespace MskClickHouse.Core.Formats.Registry;

/// <summary>
/// AWS Glue Schema Registry's <c>GetSchemaVersion</c> by schema version id (the UUID of the Glue framing): AWS JSON
/// protocol 1.1, <c>X-Amz-Target: AWSGlue.GetSchemaVersion</c>, SigV4-signed (service <c>glue</c>) with the
/// function's credentials. Answers <c>SchemaDefinition</c> and <c>DataFormat</c> (AVRO, JSON, PROTOBUF); an unknown
/// version is HTTP 400 with <c>__type</c> EntityNotFoundException.
/// </summary>
public sealed class GlueRegistryClient : ISchemaRegistryClient
{
    private const string Target = "AWSGlue.GetSchemaVersion";

    private readonly AwsJsonClient _aws;

    public GlueRegistryClient(HttpClient http, AwsCredentials credentials, string region, Uri endpoint, TimeProvider? time = null)
    {
        _aws = new AwsJsonClient(http, credentials, region, endpoint, "glue", "Glue", time);
    }

    /// <summary>https://glue.{region}.amazonaws.com (amazonaws.com.cn in China regions).</summary>
    public static Uri DefaultEndpoint(string region) => AwsJsonClient.DefaultEndpoint("glue", region);

    public async Task<RegistrySchema?> GetAsync(SchemaRef schema, CancellationToken cancellationToken)
    {
        if (schema.Kind != RegistryKind.Glue)
        {
            throw new ArgumentException("not a Glue schema version id", nameof(schema));
        }

        var body = RequestBody(schema.GlueVersionId);
        using var response = await _aws.SendAsync(Target, body, $" fetching {schema}", (message, e) => new SchemaRegistryUnavailableException(message, e), cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(bytes.Length == 0 ? "{}"u8.ToArray() : bytes);
            var root = document.RootElement;
            if (!response.IsSuccessStatusCode)
            {
                var type = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("__type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : string.Empty;
                type = type[(type.LastIndexOf('#') + 1)..];
                if (type == "EntityNotFoundException")
                {
                    return null;
                }

                throw new SchemaRegistryUnavailableException($"Glue at {_aws.Endpoint.Host} answered {(int)response.StatusCode} {type} fetching {schema}: {ConfluentRegistryClient.Snippet(bytes)}");
            }

            var definition = root.TryGetProperty("SchemaDefinition", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : null;
            var format = root.TryGetProperty("DataFormat", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            if (definition is null)
            {
                throw new SchemaRegistryUnavailableException($"Glue at {_aws.Endpoint.Host} answered {schema} without a SchemaDefinition");
            }

            return new RegistrySchema(
                format switch
                {
                    "AVRO" => SchemaType.Avro,
                    "PROTOBUF" => SchemaType.Protobuf,
                    "JSON" => SchemaType.Json,
                    _ => throw new SchemaRegistryUnavailableException($"Glue answered {schema} with unknown DataFormat '{format}'"),
                },
                definition);
        }
        catch (JsonException e)
        {
            throw new SchemaRegistryUnavailableException($"Glue at {_aws.Endpoint.Host} answered {(int)response.StatusCode} with a body that is not JSON: {ConfluentRegistryClient.Snippet(bytes)}", e);
        }
    }

    internal static byte[] RequestBody(Guid versionId)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("SchemaVersionId", versionId.ToString("D"));
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }
}
