using System.Globalization;
using MskClickHouse.Simulation;

namespace MskClickHouse.LocalRun;

/// <summary>
/// --chaos SEED: the event-source mapping simulator (random re-batching, bisects, redeliveries, concurrent duplicate
/// and different batches) drives the function while the fault proxy injects seeded ClickHouse faults.
/// </summary>
internal static class ChaosDriver
{
    /// <summary>Runs the simulator over <paramref name="logs"/> to the end; returns every payload it sent, in send order.</summary>
    public static async Task<List<byte[]>> RunAsync(
        FunctionInvoker invoker,
        Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> logs,
        int batchSize,
        int seed,
        TextWriter output,
        CancellationToken ct)
    {
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"chaos seed {seed}: random re-batching, bisects, redeliveries, concurrent duplicate and different batches, and ClickHouse faults (refused, answer lost, delayed, applied late, lagging replica)"));
        var sent = new List<byte[]>();
        var simulator = new EventSourceMappingSimulator(logs, new SimulatorOptions { MaxBatchRecords = Math.Min(batchSize, 100), MaxInvocations = int.MaxValue, ConcurrentDifferentRatio = 0.05 }, seed);
        var report = await simulator.RunAsync(
            async (payload, token) =>
            {
                lock (sent)
                {
                    sent.Add(payload);
                }

                var result = await invoker.InvokeAsync(payload, token);
                return result.Success ? new InvocationOutcome(true, BatchItemFailures.Parse(result.Body)) : InvocationOutcome.FunctionError;
            },
            ct);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"chaos: {report.Invocations} invocations, {report.FunctionErrors} function errors, {report.PartialFailures} partial failures, {report.Redeliveries} redeliveries, {report.ConcurrentDuplicates} concurrent duplicates, {report.ConcurrentDifferent} concurrent different batches, drained {report.Drained}"));
        return sent;
    }

    /// <summary>
    /// Stops injecting faults and lets inserts held by the lagging replica or still to be applied late land, before
    /// anything is counted; prints what was injected.
    /// </summary>
    public static async Task StopFaultsAsync(FaultProxy proxy, TextWriter output)
    {
        proxy.Faults.Decide = _ => Fault.None;
        await proxy.Faults.DrainAsync();
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"ClickHouse faults injected: {proxy.Faults.Refused} refused, {proxy.Faults.Lost} answers lost after the insert was applied, {proxy.Faults.Delayed} delayed, {proxy.Faults.LateApplied} applied late after the connection dropped, {proxy.Faults.Lagged} acknowledged by a lagging replica ({proxy.Faults.LagFlushes} caught up by sequentially consistent reads)"));
    }
}
