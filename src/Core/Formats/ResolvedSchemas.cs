using MskClickHouse.Core.Events;
using MskClickHouse.Core.Formats.Framing;
using MskClickHouse.Core.Formats.Registry;





namespace MskClickHouse.Core.Formats;

/// <summary>
/// The compiled schemas of every schema id one partition's records name, looked up before the (synchronous, pure)
/// row encoder runs, so encoding never waits on I/O.
/// </summary>
public sealed class ResolvedSchemas
{
    public static readonly ResolvedSchemas Empty = new(new Dictionary<SchemaRef, CompiledSchema>());

    private readonly IReadOnlyDictionary<SchemaRef, CompiledSchema> _schemas;

    public ResolvedSchemas(IReadOnlyDictionary<SchemaRef, CompiledSchema> schemas) => _schemas = schemas;

    public int Count => _schemas.Count;

    public CompiledSchema? Find(SchemaRef id) => _schemas.TryGetValue(id, out var s) ? s : null;

    /// <summary>Every schema the partition's values name (schema evolution reads the column types from them).</summary>
    public IEnumerable<CompiledSchema> All => _schemas.Values;

    /// <summary>
    /// Looks up every schema id <paramref name="partition"/>'s framed values name, retrying a registry that cannot
    /// answer until <paramref name="giveUpAt"/>; then <see cref="SchemaRegistryUnavailableException"/> fails the partition.
    /// </summary>
    public static async Task<ResolvedSchemas> ResolveAsync(
        SchemaCache cache,
        KafkaBatch batch,
        PartitionRecords partition,
        DateTimeOffset giveUpAt,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(partition);
        var ids = new HashSet<SchemaRef>();
        foreach (ref readonly var r in partition.Records.AsSpan())
        {
            if (r.Error is null && !r.Value.IsNull && SchemaFraming.TryParse(batch.Bytes(r.Value), out var framed) is null)
            {
                ids.Add(framed.Schema);
            }
        }

        var found = new Dictionary<SchemaRef, CompiledSchema>(ids.Count);
        foreach (var id in ids)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    found[id] = await cache.GetAsync(id, cancellationToken);
                    break;
                }
                catch (SchemaRegistryUnavailableException)
                {
                    var delay = TimeSpan.FromMilliseconds(Math.Min(100 * (1 << Math.Min(attempt, 6)), 3000));
                    if (time.GetUtcNow() + delay >= giveUpAt)
                    {
                        throw;
                    }

                    await Task.Delay(delay, time, cancellationToken);
                }
            }
        }

        return new ResolvedSchemas(found);
    }
}
