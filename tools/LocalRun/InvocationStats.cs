namespace MskClickHouse.LocalRun;

/// <summary>What the summary reports about the invocations: records, bytes, latencies, partial batch responses.</summary>
internal sealed class InvocationStats
{
    private readonly List<double> _latenciesMs = [];
    private readonly Lock _lock = new();

    public long Records { get; private set; }

    public long Bytes { get; private set; }

    public int Invocations { get; private set; }

    /// <summary>Partial batch responses seen while sending batches in order (the chaos driver does not count them).</summary>
    public int PartialFailures { get; set; }

    /// <summary>Records one invocation (thread-safe: the chaos driver invokes concurrently).</summary>
    public void Add(double latencyMs, long payloadBytes, int records)
    {
        lock (_lock)
        {
            _latenciesMs.Add(latencyMs);
            Invocations++;
            Bytes += payloadBytes;
            Records += records;
        }
    }

    /// <summary>The latencies in ascending order.</summary>
    public List<double> SortedLatenciesMs()
    {
        lock (_lock)
        {
            return [.. _latenciesMs.Order()];
        }
    }
}
