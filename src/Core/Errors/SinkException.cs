namespace MskClickHouse.Core.Errors;

/// <summary>
/// Root of the sink's small error hierarchy. Every error says whether retrying the same work can succeed.
/// </summary>
public abstract class SinkException : Exception
{
    protected SinkException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>True when the same request may succeed later (network, overload, timeouts).</summary>
    public abstract bool IsRetryable { get; }
}

/// <summary>A bad or missing environment variable; names the variable and what it expected.</summary>
public sealed class ConfigurationException : SinkException
{
    public ConfigurationException(string variable, string problem)
        : base($"{variable}: {problem}")
    {
        Variable = variable;
    }

    public string Variable { get; }

    public override bool IsRetryable => false;
}

/// <summary>A Kafka record that cannot be turned into a row; carries where it came from.</summary>
public sealed class RecordException : SinkException
{
    public RecordException(string topic, int partition, long offset, string problem)
        : base($"{topic}/{partition}@{offset}: {problem}")
    {
        Topic = topic;
        Partition = partition;
        Offset = offset;
        Problem = problem;
    }

    public string Topic { get; }

    public int Partition { get; }

    public long Offset { get; }

    public string Problem { get; }

    public override bool IsRetryable => false;
}
