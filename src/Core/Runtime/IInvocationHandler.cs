using MskClickHouse.Core.Logging;




namespace MskClickHouse.Core.Runtime;

/// <summary>Handles one invocation: the raw event bytes in, the raw response JSON out.</summary>
public interface IInvocationHandler
{
    Task<byte[]> HandleAsync(InvocationContext context, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}
