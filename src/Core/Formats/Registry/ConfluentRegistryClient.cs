using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.Core.Secrets;

namespace MskClickHouse.Core.Formats.Registry;

/// <summary>
/// Confluent Schema Registry REST API (and compatible ones): <c>GET {url}/schemas/ids/{id}</c> answers
/// <c>{"schema": "...", "schemaType": "PROTOBUF"|"JSON"}</c>, <c>schemaType</c> absent for Avro; an unknown id is
/// 404 (error_code 40403). Optional HTTP basic auth.
/// </summary>
public sealed class ConfluentRegistryClient : ISchemaRegistryClient
{
    private readonly HttpClient _http;
    private readonly Uri _baseUrl;
    private readonly AuthenticationHeaderValue? _auth;

    public ConfluentRegistryClient(HttpClient http, Uri baseUrl, string? user, string? password)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(baseUrl);
        _http = http;
        _baseUrl = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        _auth = user is null ? null : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
    }

    public async Task<RegistrySchema?> GetAsync(SchemaRef schema, CancellationToken cancellationToken)
    {
        if (schema.Kind != RegistryKind.Confluent)
        {
            throw new ArgumentException("not a Confluent schema id", nameof(schema));
        }

        var url = new Uri(_baseUrl, "schemas/ids/" + schema.ConfluentId.ToString(CultureInfo.InvariantCulture));
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("application/vnd.schemaregistry.v1+json, application/json");
        request.Headers.Authorization = _auth;
        using var response = await ServiceCall.SendAsync(
            _http, request, $"schema registry at {_baseUrl.Authority}", $" fetching {schema}", (message, e) => new SchemaRegistryUnavailableException(message, e), cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            // 401/403 included: a credential problem is fixed by the operator, and the records must wait for it.
            throw new SchemaRegistryUnavailableException($"schema registry at {_baseUrl.Authority} answered {(int)response.StatusCode} fetching {schema}: {Snippet(body)}");
        }

        return Parse(body, schema, _baseUrl.Authority);
    }

    /// <summary>The schema in a 200 answer.</summary>
    internal static RegistrySchema Parse(byte[] body, SchemaRef schema, string where)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("schema", out var text) || text.ValueKind != JsonValueKind.String)
            {
                throw new SchemaRegistryUnavailableException($"schema registry at {where} answered {schema} without a 'schema' string: {Snippet(body)}");
            }

            var type = root.TryGetProperty("schemaType", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            return new RegistrySchema(
                type?.ToUpperInvariant() switch
                {
                    null or "AVRO" => SchemaType.Avro,
                    "PROTOBUF" => SchemaType.Protobuf,
                    "JSON" => SchemaType.Json,
                    _ => throw new SchemaRegistryUnavailableException($"schema registry at {where} answered {schema} with unknown schemaType '{type}'"),
                },
                text.GetString()!);
        }
        catch (JsonException e)
        {
            throw new SchemaRegistryUnavailableException($"schema registry at {where} answered {schema} with a body that is not JSON: {Snippet(body)}", e);
        }
    }

    internal static string Snippet(byte[] body) =>
        body.Length == 0 ? "(empty body)" : Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 300)).ReplaceLineEndings(" ");
}
