using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using MskClickHouse.Core.Secrets;
using MskClickHouse.DevHarness.Fakes;

namespace MskClickHouse.SchemaRegistryEmulator;

/// <summary>
/// A schema registry on 127.0.0.1 for tests and local runs, serving both APIs the function calls from one port:
/// Confluent's <c>GET /schemas/ids/{id}</c> (404 with error_code 40403 for an unknown id; HTTP basic auth when a user
/// is set) and Glue's <c>POST /</c> with <c>X-Amz-Target: AWSGlue.GetSchemaVersion</c> (the SigV4 signature is
/// re-computed from what arrived and must match; 400 EntityNotFoundException for an unknown version). Set
/// <see cref="Down"/> to answer 503 to everything, as a registry outage looks.
/// </summary>
public sealed class RegistryEmulator : LoopbackHttpServer
{
    private readonly ConcurrentDictionary<int, (string Type, string Schema)> _confluent = new();
    private readonly ConcurrentDictionary<Guid, (string Type, string Schema)> _glue = new();
    private int _confluentRequests;
    private int _glueRequests;

    public RegistryEmulator(string? user = null, string? password = null, AwsCredentials? glueCredentials = null, string region = "us-east-1")
        : base(concurrent: true)
    {
        User = user;
        Password = password;
        GlueCredentials = glueCredentials;
        Region = region;
        Start();
    }

    public string? User { get; }

    public string? Password { get; }

    public AwsCredentials? GlueCredentials { get; }

    public string Region { get; }

    /// <summary>When true every request is answered 503 Service Unavailable.</summary>
    public bool Down { get; set; }

    public int ConfluentRequests => _confluentRequests;

    public int GlueRequests => _glueRequests;

    /// <summary>What was wrong with requests (bad signature, missing auth...); empty when all were well-formed.</summary>
    public ConcurrentQueue<string> Problems { get; } = new();

    /// <summary>Registers a Confluent schema (type AVRO, PROTOBUF or JSON; AVRO is answered without schemaType, as Confluent does).</summary>
    public void AddConfluent(int id, string type, string schema) => _confluent[id] = (type, schema);

    public void AddGlue(Guid versionId, string dataFormat, string schema) => _glue[versionId] = (dataFormat, schema);

    /// <inheritdoc/>
    protected override (int Status, string ContentType, string Body) Answer(HttpListenerRequest request, byte[] body)
    {
        const string confluentJson = "application/vnd.schemaregistry.v1+json";
        const string amzJson = "application/x-amz-json-1.1";
        var path = request.Url!.AbsolutePath;
        if (request.HttpMethod == "GET" && path.StartsWith("/schemas/ids/", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _confluentRequests);
            if (Down)
            {
                return (503, "text/plain", "registry down");
            }

            if (User is not null)
            {
                var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}"));
                if (request.Headers["Authorization"] != expected)
                {
                    Problems.Enqueue("Confluent request without the expected basic auth");
                    return (401, confluentJson, """{"error_code":401,"message":"Unauthorized"}""");
                }
            }

            if (!int.TryParse(path["/schemas/ids/".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var id) || !_confluent.TryGetValue(id, out var s))
            {
                return (404, confluentJson, """{"error_code":40403,"message":"Schema not found"}""");
            }

            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream))
            {
                w.WriteStartObject();
                if (s.Type != "AVRO")
                {
                    w.WriteString("schemaType", s.Type);
                }

                w.WriteString("schema", s.Schema);
                w.WriteEndObject();
            }

            return (200, confluentJson, Encoding.UTF8.GetString(stream.ToArray()));
        }

        if (request.HttpMethod == "POST" && request.Headers["X-Amz-Target"] == "AWSGlue.GetSchemaVersion")
        {
            Interlocked.Increment(ref _glueRequests);
            if (Down)
            {
                return (503, amzJson, """{"__type":"InternalServiceException","Message":"unavailable"}""");
            }

            CheckSignature(request, body);
            Guid version;
            try
            {
                using var doc = JsonDocument.Parse(body);
                version = Guid.Parse(doc.RootElement.GetProperty("SchemaVersionId").GetString()!);
            }
            catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                return (400, amzJson, """{"__type":"InvalidInputException","Message":"SchemaVersionId is required"}""");
            }

            if (!_glue.TryGetValue(version, out var s))
            {
                return (400, amzJson, $$"""{"__type":"EntityNotFoundException","Message":"Schema version is not found. SchemaVersionId: {{version}}"}""");
            }

            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream))
            {
                w.WriteStartObject();
                w.WriteString("SchemaVersionId", version.ToString("D"));
                w.WriteString("SchemaDefinition", s.Schema);
                w.WriteString("DataFormat", s.Type);
                w.WriteString("Status", "AVAILABLE");
                w.WriteNumber("VersionNumber", 1);
                w.WriteEndObject();
            }

            return (200, amzJson, Encoding.UTF8.GetString(stream.ToArray()));
        }

        Problems.Enqueue($"unexpected request {request.HttpMethod} {path}");
        return (404, "text/plain", "not found");
    }

    private void CheckSignature(HttpListenerRequest request, byte[] body)
    {
        if (GlueCredentials is { } credentials && AwsSignatureCheck.Problem(request, body, credentials, Region, "glue") is { } problem)
        {
            Problems.Enqueue(problem);
        }
    }
}
