using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Formats.Registry;

namespace MskClickHouse.Core.Formats;

/// <summary>
/// The handler's hook: before encoding, looks up the schemas of every partition whose topic has a registry format
/// (avro, protobuf, json-schema), in parallel across partitions. A partition whose registry cannot answer in time is
/// reported through <c>onFailure</c> (it goes to batchItemFailures and is retried); nothing of it is dead-lettered.
/// </summary>
public static class SchemaResolution
{
    /// <summary>Used when no registry is configured: every framed value is dead-lettered saying which variable is missing.</summary>
    private static readonly SchemaCache Unconfigured = new(null, null);

    public static async Task<Dictionary<PartitionRecords, ResolvedSchemas>> ResolveAllAsync<T>(
        SchemaCache? cache,
        KafkaBatch batch,
        IReadOnlyList<T> items,
        Func<T, PartitionRecords> sourceOf,
        Func<T, ValueFormat> formatOf,
        Action<T, Exception> onFailure,
        DateTimeOffset giveUpAt,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        var result = new Dictionary<PartitionRecords, ResolvedSchemas>();
        var framed = items.Where(i => formatOf(i) is ValueFormat.Avro or ValueFormat.Protobuf or ValueFormat.JsonSchema).ToList();
        if (framed.Count == 0)
        {
            return result;
        }

        var lookups = framed.Select(async item =>
        {
            try
            {
                return (item, (ResolvedSchemas?)await ResolvedSchemas.ResolveAsync(cache ?? Unconfigured, batch, sourceOf(item), giveUpAt, time, cancellationToken), (Exception?)null);
            }
            catch (SchemaRegistryUnavailableException e)
            {
                return (item, null, e);
            }
        }).ToList();

        foreach (var (item, resolved, error) in await Task.WhenAll(lookups))
        {
            if (error is not null)
            {
                onFailure(item, error);
            }
            else
            {
                result[sourceOf(item)] = resolved!;
            }
        }

        return result;
    }
}
