using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.Core.Formats.Registry;
using MskClickHouse.Core.Secrets;
using MskClickHouse.SchemaRegistryEmulator;

namespace MskClickHouse.Core.Tests.Formats.Registry;

public sealed class RegistryClientTests
{
    private static readonly AwsCredentials Credentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token");
    private const string Avro = """{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}""";

    [Fact]
    public async Task Confluent_KnownId_ReturnsSchemaAndType_WithBasicAuth()
    {
        using var registry = new RegistryEmulator("svc", "s3cret");
        registry.AddConfluent(7, "AVRO", Avro);
        registry.AddConfluent(8, "PROTOBUF", "syntax = \"proto3\"; message M { int32 a = 1; }");
        using var http = new HttpClient();
        var client = new ConfluentRegistryClient(http, registry.Url, "svc", "s3cret");

        var avro = await client.GetAsync(SchemaRef.Confluent(7), TestContext.Current.CancellationToken);
        var proto = await client.GetAsync(SchemaRef.Confluent(8), TestContext.Current.CancellationToken);

        Assert.Equal(new RegistrySchema(SchemaType.Avro, Avro), avro);
        Assert.Equal(SchemaType.Protobuf, proto!.Type);
        Assert.Empty(registry.Problems);
    }

    [Fact]
    public async Task Confluent_UnknownId_IsNull()
    {
        using var registry = new RegistryEmulator();
        using var http = new HttpClient();
        var client = new ConfluentRegistryClient(http, registry.Url, null, null);
        Assert.Null(await client.GetAsync(SchemaRef.Confluent(404), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Confluent_Down_IsTransient()
    {
        using var registry = new RegistryEmulator { Down = true };
        using var http = new HttpClient();
        var client = new ConfluentRegistryClient(http, registry.Url, null, null);
        var e = await Assert.ThrowsAsync<SchemaRegistryUnavailableException>(() => client.GetAsync(SchemaRef.Confluent(1), TestContext.Current.CancellationToken));
        Assert.Contains("503", e.Message, StringComparison.Ordinal);
        Assert.True(e.IsRetryable);
    }

    [Fact]
    public async Task Confluent_WrongPassword_IsTransientNotUnknown()
    {
        using var registry = new RegistryEmulator("svc", "s3cret");
        registry.AddConfluent(7, "AVRO", Avro);
        using var http = new HttpClient();
        var client = new ConfluentRegistryClient(http, registry.Url, "svc", "wrong");
        var e = await Assert.ThrowsAsync<SchemaRegistryUnavailableException>(() => client.GetAsync(SchemaRef.Confluent(7), TestContext.Current.CancellationToken));
        Assert.DoesNotContain("wrong", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confluent_Unreachable_IsTransient()
    {
        Uri url;
        using (var gone = new RegistryEmulator())
        {
            url = gone.Url;
        }

        using var http = new HttpClient();
        var client = new ConfluentRegistryClient(http, url, null, null);
        await Assert.ThrowsAsync<SchemaRegistryUnavailableException>(() => client.GetAsync(SchemaRef.Confluent(1), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Glue_KnownVersion_IsSignedAndReturnsDefinition()
    {
        using var registry = new RegistryEmulator(glueCredentials: Credentials, region: "eu-west-1");
        var version = Guid.NewGuid();
        registry.AddGlue(version, "AVRO", Avro);
        using var http = new HttpClient();
        var client = new GlueRegistryClient(http, Credentials, "eu-west-1", registry.Url);

        var schema = await client.GetAsync(SchemaRef.Glue(version), TestContext.Current.CancellationToken);

        Assert.Equal(new RegistrySchema(SchemaType.Avro, Avro), schema);
        Assert.Empty(registry.Problems);
        Assert.Equal(1, registry.GlueRequests);
    }

    [Fact]
    public async Task Glue_EntityNotFound_IsNull_OtherErrorsAreTransient()
    {
        using var registry = new RegistryEmulator(glueCredentials: Credentials);
        using var http = new HttpClient();
        var client = new GlueRegistryClient(http, Credentials, "us-east-1", registry.Url);
        Assert.Null(await client.GetAsync(SchemaRef.Glue(Guid.NewGuid()), TestContext.Current.CancellationToken));
        registry.Down = true;
        await Assert.ThrowsAsync<SchemaRegistryUnavailableException>(() => client.GetAsync(SchemaRef.Glue(Guid.NewGuid()), TestContext.Current.CancellationToken));
        Assert.Empty(registry.Problems);
    }

    [Fact]
    public void Glue_DefaultEndpoint_IsRegional() =>
        Assert.Equal("https://glue.eu-west-1.amazonaws.com/", GlueRegistryClient.DefaultEndpoint("eu-west-1").ToString());
}
