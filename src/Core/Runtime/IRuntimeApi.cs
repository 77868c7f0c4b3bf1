using MskClickHouse.Core.Logging;




namespace MskClickHouse.Core.Runtime;

/// <summary>
/// One invocation handed out by <see cref="IRuntimeApi.GetNextInvocationAsync"/>.
/// <see cref="Payload"/> lies in a buffer the client reuses: it is valid until the next call to GetNextInvocationAsync.
/// </summary>
public sealed record Invocation(InvocationContext Context, ReadOnlyMemory<byte> Payload);

/// <summary>
/// The error document the Runtime API takes on /invocation/{id}/error and /init/error:
/// <c>{"errorMessage":..,"errorType":..,"stackTrace":[..]}</c>.
/// </summary>
public sealed record RuntimeError(string ErrorType, string ErrorMessage, IReadOnlyList<string> StackTrace)
{
    /// <summary>errorType is the exception's type name (as RuntimeSupport reports it), message its message, stack its frames.</summary>
    public static RuntimeError FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var frames = exception.StackTrace is { } stack
            ? stack.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
        return new RuntimeError(exception.GetType().Name, exception.Message, frames);
    }
}

/// <summary>The Lambda Runtime API, version 2018-06-01.</summary>
public interface IRuntimeApi
{
    /// <summary>GET /runtime/invocation/next: waits (without timeout) for the next event.</summary>
    Task<Invocation> GetNextInvocationAsync(CancellationToken cancellationToken);

    /// <summary>POST /runtime/invocation/{id}/response.</summary>
    Task PostResponseAsync(string requestId, ReadOnlyMemory<byte> response, CancellationToken cancellationToken);

    /// <summary>POST /runtime/invocation/{id}/error with header Lambda-Runtime-Function-Error-Type.</summary>
    Task PostInvocationErrorAsync(string requestId, RuntimeError error, CancellationToken cancellationToken);

    /// <summary>POST /runtime/init/error with header Lambda-Runtime-Function-Error-Type.</summary>
    Task PostInitErrorAsync(RuntimeError error, CancellationToken cancellationToken);
}

/// <summary>The Runtime API answered with an unexpected status, or its answer lacked a required header.</summary>
public sealed class RuntimeApiException : Exception
{
    public RuntimeApiException(string message, int? statusCode = null)
        : base(message)
    {
        StatusCode = statusCode;
    }

    public RuntimeApiException()
    {
    }

    public RuntimeApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RuntimeApiException(string message)
        : base(message)
    {
    }

    public int? StatusCode { get; }
}
