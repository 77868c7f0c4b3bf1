using MskClickHouse.Core.Errors;

namespace MskClickHouse.Core.Replay;

/// <summary>A replay payload that cannot be used; names the field and what it expected. Not retryable.</summary>
public sealed class ReplayRequestException : SinkException
{
    public ReplayRequestException(string field, string problem)
        : base($"replay request: '{field}' {problem}")
    {
        Field = field;
    }

    public string Field { get; }

    public override bool IsRetryable => false;
}
