using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MskClickHouse.Core.Secrets;
using MskClickHouse.SchemaRegistryEmulator;

namespace MskClickHouse.Tools.Tests.SchemaRegistryEmulator;

/// <summary>The registry emulator answers as Confluent and Glue do (status codes and error bodies the clients read).</summary>
public sealed class RegistryEmulatorTests
{
    private static readonly AwsCredentials Credentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

    [Fact]
    public async Task Confluent_AvroWithoutSchemaType_OthersWithIt_UnknownIdIs404With40403()
    {
        var ct = TestContext.Current.CancellationToken;
        using var registry = new RegistryEmulator();
        registry.AddConfluent(1, "AVRO", "\"string\"");
        registry.AddConfluent(2, "PROTOBUF", "syntax = \"proto3\";");
        using var http = new HttpClient { BaseAddress = registry.Url };

        Assert.Equal("""{"schema":"\u0022string\u0022"}""", await http.GetStringAsync(new Uri("schemas/ids/1", UriKind.Relative), ct));
        Assert.Equal("""{"schemaType":"PROTOBUF","schema":"syntax = \u0022proto3\u0022;"}""", await http.GetStringAsync(new Uri("schemas/ids/2", UriKind.Relative), ct));
        using var unknown = await http.GetAsync(new Uri("schemas/ids/3", UriKind.Relative), ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("\"error_code\":40403", await unknown.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        Assert.Equal(3, registry.ConfluentRequests);
        Assert.Empty(registry.Problems);
    }

    [Fact]
    public async Task Confluent_UserSetAndNoBasicAuth_Is401AndAProblem()
    {
        var ct = TestContext.Current.CancellationToken;
        using var registry = new RegistryEmulator(user: "sr-user", password: "sr-pass");
        registry.AddConfluent(1, "AVRO", "\"string\"");
        using var http = new HttpClient { BaseAddress = registry.Url };

        using var anonymous = await http.GetAsync(new Uri("schemas/ids/1", UriKind.Relative), ct);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("sr-user:sr-pass")));
        using var authorized = await http.GetAsync(new Uri("schemas/ids/1", UriKind.Relative), ct);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
        Assert.Equal("Confluent request without the expected basic auth", Assert.Single(registry.Problems));
    }

    [Fact]
    public async Task Glue_SignedRequest_AnswersTheVersion_UnknownVersionIsEntityNotFound()
    {
        var ct = TestContext.Current.CancellationToken;
        var known = Guid.Parse("a0a0a0a0-0000-4000-8000-000000000001");
        using var registry = new RegistryEmulator(glueCredentials: Credentials, region: "eu-west-1");
        registry.AddGlue(known, "AVRO", "\"string\"");
        using var http = new HttpClient();

        async Task<(HttpStatusCode Status, string Body)> GetAsync(Guid version)
        {
            var body = Encoding.UTF8.GetBytes($$"""{"SchemaVersionId":"{{version}}"}""");
            using var request = AwsJsonRequest.Create(registry.Url, "AWSGlue.GetSchemaVersion", body, Credentials, "eu-west-1", "glue", DateTimeOffset.UtcNow);
            using var response = await http.SendAsync(request, ct);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(ct));
        }

        var found = await GetAsync(known);
        var missing = await GetAsync(Guid.Parse("b0b0b0b0-0000-4000-8000-000000000002"));

        Assert.Equal(HttpStatusCode.OK, found.Status);
        Assert.Contains("\"DataFormat\":\"AVRO\"", found.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, missing.Status);
        Assert.Contains("\"__type\":\"EntityNotFoundException\"", missing.Body, StringComparison.Ordinal);
        Assert.Empty(registry.Problems);
        Assert.Equal(2, registry.GlueRequests);
    }

    [Fact]
    public async Task Down_EveryApiAnswers503()
    {
        var ct = TestContext.Current.CancellationToken;
        using var registry = new RegistryEmulator { Down = true };
        registry.AddConfluent(1, "AVRO", "\"string\"");
        using var http = new HttpClient();
        using var glue = new HttpRequestMessage(HttpMethod.Post, registry.Url) { Content = new StringContent("{}") };
        glue.Headers.TryAddWithoutValidation("X-Amz-Target", "AWSGlue.GetSchemaVersion");

        using var confluent = await http.GetAsync(new Uri(registry.Url, "schemas/ids/1"), ct);
        using var glueAnswer = await http.SendAsync(glue, ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, confluent.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, glueAnswer.StatusCode);
    }
}
