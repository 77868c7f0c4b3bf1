using System.Collections.Concurrent;
using MskClickHouse.Core.Formats.Framing;

namespace MskClickHouse.Core.Formats.Registry;

/// <summary>
/// Schema id → <see cref="CompiledSchema"/> for the life of the sandbox. Each id is fetched once: concurrent callers
/// of the same id share one lookup. An id the registry does not know is remembered for
/// <see cref="NotFoundTtl"/> only (a schema registered just after its first record was produced can then still be
/// decoded by a later batch); a lookup that failed transiently is forgotten at once, so the next call asks again.
/// </summary>
public sealed class SchemaCache
{
    public static readonly TimeSpan NotFoundTtl = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<SchemaRef, Lazy<Task<Entry>>> _entries = new();
    private readonly ISchemaRegistryClient? _confluent;
    private readonly ISchemaRegistryClient? _glue;
    private readonly TimeProvider _time;

    public SchemaCache(ISchemaRegistryClient? confluent, ISchemaRegistryClient? glue, TimeProvider? time = null)
    {
        _confluent = confluent;
        _glue = glue;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How many lookups reached a registry (tests check "fetched once").</summary>
    public int Fetches => _fetches;

    private int _fetches;

    /// <summary>The compiled schema of <paramref name="id"/>; throws <see cref="SchemaRegistryUnavailableException"/> when the registry cannot answer now.</summary>
    public async Task<CompiledSchema> GetAsync(SchemaRef id, CancellationToken cancellationToken)
    {
        while (true)
        {
            var lazy = _entries.GetOrAdd(id, key => new Lazy<Task<Entry>>(() => FetchAsync(key, cancellationToken)));
            Entry entry;
            try
            {
                entry = await lazy.Value;
            }
            catch
            {
                _entries.TryRemove(new KeyValuePair<SchemaRef, Lazy<Task<Entry>>>(id, lazy));
                throw;
            }

            if (entry.ExpiresAt is { } expires && _time.GetUtcNow() >= expires)
            {
                _entries.TryRemove(new KeyValuePair<SchemaRef, Lazy<Task<Entry>>>(id, lazy));
                continue;
            }

            return entry.Schema;
        }
    }

    private async Task<Entry> FetchAsync(SchemaRef id, CancellationToken cancellationToken)
    {
        var client = id.Kind == RegistryKind.Confluent ? _confluent : _glue;
        if (client is null)
        {
            return new Entry(CompiledSchema.Failed(id.Kind == RegistryKind.Confluent
                ? $"value is Confluent-framed ({id}) but SCHEMA_REGISTRY_URL is not set"
                : $"value is Glue-framed ({id}) but the function has no AWS credentials or region to call Glue with"), null);
        }

        Interlocked.Increment(ref _fetches);
        var schema = await client.GetAsync(id, cancellationToken);
        return schema is null
            ? new Entry(CompiledSchema.Failed($"unknown schema: the registry has no {id}"), _time.GetUtcNow() + NotFoundTtl)
            : new Entry(CompiledSchema.Compile(id, schema), null);
    }

    private sealed record Entry(CompiledSchema Schema, DateTimeOffset? ExpiresAt);
}
