namespace MskClickHouse.Simulation;

/// <summary>
/// Every fault of a real cluster at once, seeded: 3% of requests refused, 3% applied but their answer lost, 1% delayed
/// by the handler's <see cref="FaultInjectingHandler.Delay"/>, and of the inserts 2% applied late after the connection
/// dropped and 6% acknowledged by a lagging replica. The soak test and ./run.sh --chaos inject this same mix.
/// </summary>
public static class RealClusterFaults
{
    /// <summary>A decision for <see cref="FaultInjectingHandler.Decide"/>; thread-safe, the same sequence for the same seed and request order.</summary>
    public static Func<HttpRequestMessage, Fault> Seeded(int seed)
    {
        var random = new Random(seed);
        return request =>
        {
            lock (random)
            {
                var x = random.NextDouble();
                var insert = FaultInjectingHandler.IsInsert(request);
                return x < 0.03 ? Fault.RefuseBeforeSending
                    : x < 0.06 ? Fault.LoseAnswerAfterApplying
                    : x < 0.07 ? Fault.Delay
                    : x < 0.09 && insert ? Fault.LateApply
                    : x < 0.15 && insert ? Fault.LagReplica
                    : Fault.None;
            }
        };
    }
}
