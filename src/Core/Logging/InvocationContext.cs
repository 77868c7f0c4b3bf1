namespace MskClickHouse.Core.Logging;

/// <summary>What the Runtime API says about one invocation.</summary>
public sealed record InvocationContext(
    string RequestId,
    DateTimeOffset Deadline,
    string InvokedFunctionArn,
    string? TraceId);
