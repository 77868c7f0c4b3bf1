using MskClickHouse.Core.Formats.Framing;





namespace MskClickHouse.Core.Formats.Registry;

/// <summary>
/// Looks a schema up by the id a framed value carries. Null when the registry says the id does not exist (Confluent
/// 404, Glue EntityNotFoundException): the value cannot be decoded, ever, and is dead-lettered. Every other failure
/// (unreachable, 5xx, throttling, refused credentials) throws <see cref="SchemaRegistryUnavailableException"/>:
/// the partition is retried, nothing is dead-lettered.
/// </summary>
public interface ISchemaRegistryClient
{
    Task<RegistrySchema?> GetAsync(SchemaRef schema, CancellationToken cancellationToken);
}
