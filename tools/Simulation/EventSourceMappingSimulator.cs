namespace MskClickHouse.Simulation;

/// <summary>What an invocation told the mapping.</summary>
public sealed record InvocationOutcome(bool Succeeded, IReadOnlyList<(string MapKey, long Offset)> Failures)
{
    public static InvocationOutcome FunctionError { get; } = new(false, []);
}

/// <summary>How adversarial the simulated mapping is.</summary>
public sealed record SimulatorOptions
{
    public int MaxBatchRecords { get; init; } = 50;

    /// <summary>After a function error, halve the failed batch (BisectBatchOnFunctionError).</summary>
    public bool BisectOnError { get; init; } = true;

    /// <summary>Probability that a successful batch is delivered again anyway (a lost commit).</summary>
    public double RedeliverRatio { get; init; } = 0.1;

    /// <summary>Probability that a batch is delivered twice at the same time.</summary>
    public double ConcurrentDuplicateRatio { get; init; } = 0.05;

    /// <summary>
    /// Probability that a second poller delivers a different batch of the same partitions at the same time (a
    /// rebalance: both start at the committed offset, with other sizes); its outcome is ignored, as Kafka rejects the
    /// commit of a poller that lost the partition.
    /// </summary>
    public double ConcurrentDifferentRatio { get; init; }

    /// <summary>Stop after this many invocations even if records remain (a bound for tests).</summary>
    public int MaxInvocations { get; init; } = 10_000;
}

/// <summary>Counters of a simulation run.</summary>
public sealed record SimulationReport(int Invocations, int FunctionErrors, int PartialFailures, int Redeliveries, int ConcurrentDuplicates, bool Drained, int ConcurrentDifferent = 0);

/// <summary>
/// An at-least-once Kafka event-source mapping: per partition it delivers from the committed offset, batches of random
/// size (re-batching), halves batches after errors (bisect), commits per partition from the partial batch response,
/// and sometimes redelivers or delivers twice at once.
/// </summary>
public sealed class EventSourceMappingSimulator
{
    private readonly IReadOnlyDictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> _logs;
    private readonly SimulatorOptions _options;
    private readonly Random _random;

    public EventSourceMappingSimulator(IReadOnlyDictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> logs, SimulatorOptions options, int seed)
    {
        _logs = logs;
        _options = options;
        _random = new Random(seed);
    }

    public async Task<SimulationReport> RunAsync(Func<byte[], CancellationToken, Task<InvocationOutcome>> invoke, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invoke);
        var committed = _logs.ToDictionary(l => l.Key, _ => 0);
        var bisectLimit = new Dictionary<(string, int), int>();
        int invocations = 0, errors = 0, partial = 0, redeliveries = 0, concurrent = 0, different = 0;

        while (invocations < _options.MaxInvocations)
        {
            var open = committed.Where(c => c.Value < _logs[c.Key].Count).Select(c => c.Key).ToList();
            if (open.Count == 0)
            {
                return new SimulationReport(invocations, errors, partial, redeliveries, concurrent, true, different);
            }

            var chosen = open.Where(_ => _random.Next(2) == 0).ToList();
            if (chosen.Count == 0)
            {
                chosen.Add(open[_random.Next(open.Count)]);
            }

            var batches = new Dictionary<(string, int), List<SimRecord>>();
            foreach (var p in chosen)
            {
                var size = _random.Next(1, _options.MaxBatchRecords + 1);
                if (bisectLimit.TryGetValue(p, out var limit))
                {
                    size = Math.Min(size, limit);
                }

                batches[p] = _logs[p].Skip(committed[p]).Take(size).ToList();
            }

            var payload = KafkaEventWriter.Write(batches.Values.SelectMany(b => b));
            InvocationOutcome outcome;
            invocations++;
            if (_options.ConcurrentDifferentRatio > 0 && _random.NextDouble() < _options.ConcurrentDifferentRatio)
            {
                different++;
                var other = KafkaEventWriter.Write(batches.Keys.SelectMany(p => _logs[p].Skip(committed[p]).Take(_random.Next(1, _options.MaxBatchRecords + 1))));
                var both = await Task.WhenAll(invoke(payload, cancellationToken), invoke(other, cancellationToken));
                outcome = both[0];
            }
            else if (_random.NextDouble() < _options.ConcurrentDuplicateRatio)
            {
                concurrent++;
                var both = await Task.WhenAll(invoke(payload, cancellationToken), invoke(payload, cancellationToken));
                outcome = both[0];
            }
            else
            {
                outcome = await invoke(payload, cancellationToken);
            }

            if (!outcome.Succeeded)
            {
                errors++;
                foreach (var (p, b) in batches)
                {
                    if (_options.BisectOnError)
                    {
                        bisectLimit[p] = Math.Max(1, b.Count / 2);
                    }
                }

                continue;
            }

            if (_random.NextDouble() < _options.RedeliverRatio)
            {
                redeliveries++;
                continue;
            }

            partial += outcome.Failures.Count > 0 ? 1 : 0;
            foreach (var (p, b) in batches)
            {
                var failure = outcome.Failures.FirstOrDefault(f => f.MapKey == $"{p.Item1}-{p.Item2}");
                if (failure.MapKey is not null)
                {
                    var index = _logs[p].Select((r, i) => (r, i)).First(x => x.r.Offset >= failure.Offset).i;
                    committed[p] = Math.Max(committed[p], index);
                    if (_options.BisectOnError)
                    {
                        bisectLimit[p] = Math.Max(1, b.Count / 2);
                    }
                }
                else
                {
                    committed[p] += b.Count;
                    bisectLimit.Remove(p);
                }
            }
        }

        return new SimulationReport(invocations, errors, partial, redeliveries, concurrent, false, different);
    }
}
