namespace MskClickHouse.Core.Runtime;

/// <summary>What the Runtime API says about one invocation.</summary>
public sealed record InvocationContext(
    string RequestId,
    DateTimeOffset Deadline,
    string InvokedFunctionArn,
    string? TraceId);

/// <summary>Handles one invocation: the raw event bytes in, the raw response JSON out.</summary>
public interface IInvocationHandler
{
    Task<byte[]> HandleAsync(InvocationContext context, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}
