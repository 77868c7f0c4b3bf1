using MskClickHouse.Core.Errors;





namespace MskClickHouse.Core.Formats.Registry;

/// <summary>A registry lookup that may succeed later (network, 5xx, throttling, auth being fixed): the partition is retried.</summary>
public sealed class SchemaRegistryUnavailableException(string message, Exception? inner = null) : SinkException(message, inner)
{
    public override bool IsRetryable => true;
}
