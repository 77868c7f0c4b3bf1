namespace MskClickHouse.Core.Events;

/// <summary>
/// The invocation payload is not a Lambda Kafka event: not JSON, truncated, or not the expected shape.
/// Carries the byte position where the problem was found and what was expected there.
/// </summary>
public sealed class EventFormatException : FormatException
{
    public EventFormatException(long position, string problem, Exception? inner = null)
        : base($"Kafka event is malformed at byte {position}: {problem}", inner)
    {
        Position = position;
        Problem = problem;
    }

    public EventFormatException()
        : this(0, "malformed event")
    {
    }

    public EventFormatException(string message)
        : this(0, message)
    {
    }

    public EventFormatException(string message, Exception innerException)
        : this(0, message, innerException)
    {
    }

    /// <summary>Byte offset into the payload.</summary>
    public long Position { get; }

    public string Problem { get; }
}
