using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.Core.Formats.Registry;





namespace MskClickHouse.Core.Tests.Formats.Registry;

public sealed class SchemaCacheTests
{
    private const string Avro = """{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}""";

    private sealed class CountingClient(Func<SchemaRef, RegistrySchema?> answer) : ISchemaRegistryClient
    {
        public int Calls;

        public bool Fail { get; set; }

        public async Task<RegistrySchema?> GetAsync(SchemaRef schema, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            await Task.Delay(20, cancellationToken);
            return Fail ? throw new SchemaRegistryUnavailableException("down") : answer(schema);
        }
    }

    [Fact]
    public async Task GetAsync_ConcurrentCallsForFiftyIds_FetchEachIdOnce()
    {
        var client = new CountingClient(_ => new RegistrySchema(SchemaType.Avro, Avro));
        var cache = new SchemaCache(client, null);
        var calls = Enumerable.Range(0, 500).Select(i => cache.GetAsync(SchemaRef.Confluent(i % 50), TestContext.Current.CancellationToken));
        var schemas = await Task.WhenAll(calls);
        Assert.All(schemas, s => Assert.Null(s.Failure));
        Assert.Equal(50, client.Calls);
    }

    [Fact]
    public async Task GetAsync_TransientFailure_IsNotCached()
    {
        var client = new CountingClient(_ => new RegistrySchema(SchemaType.Avro, Avro)) { Fail = true };
        var cache = new SchemaCache(client, null);
        await Assert.ThrowsAsync<SchemaRegistryUnavailableException>(() => cache.GetAsync(SchemaRef.Confluent(1), TestContext.Current.CancellationToken));
        client.Fail = false;
        Assert.Null((await cache.GetAsync(SchemaRef.Confluent(1), TestContext.Current.CancellationToken)).Failure);
        Assert.Equal(2, client.Calls);
    }

    [Fact]
    public async Task GetAsync_UnknownId_IsADeadLetterReason()
    {
        var cache = new SchemaCache(new CountingClient(_ => null), null);
        var schema = await cache.GetAsync(SchemaRef.Confluent(9), TestContext.Current.CancellationToken);
        Assert.Contains("unknown schema", schema.Failure, StringComparison.Ordinal);
        Assert.Contains("Confluent schema id 9", schema.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_NoConfluentRegistryConfigured_NamesTheVariable()
    {
        var cache = new SchemaCache(null, null);
        var schema = await cache.GetAsync(SchemaRef.Confluent(1), TestContext.Current.CancellationToken);
        Assert.Contains("SCHEMA_REGISTRY_URL", schema.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_SchemaThatDoesNotParse_IsADeadLetterReason()
    {
        var cache = new SchemaCache(new CountingClient(_ => new RegistrySchema(SchemaType.Avro, "{\"type\":\"wat\"}")), null);
        var schema = await cache.GetAsync(SchemaRef.Confluent(3), TestContext.Current.CancellationToken);
        Assert.Contains("cannot be used", schema.Failure, StringComparison.Ordinal);
    }
}
