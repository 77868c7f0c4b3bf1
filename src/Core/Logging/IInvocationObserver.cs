namespace MskClickHouse.Core.Logging;

/// <summary>
/// Told by the runtime loop (Runtime/LambdaRuntimeLoop) when an invocation starts and ends, so that logs and metrics
/// can carry the request id, trace id and cold-start flag of the invocation in progress.
/// </summary>
public interface IInvocationObserver
{
    void InvocationStarted(InvocationContext context, bool coldStart);

    void InvocationEnded(InvocationContext context);
}
