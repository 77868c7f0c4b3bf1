using MskClickHouse.Core.Configuration;





namespace MskClickHouse.Core.Hosting;

/// <summary>Turns the invocation's undelivered partitions into its answer, per poller mode. Called once, at the end.</summary>
public static class InvocationAnswer
{
    /// <summary>PROVISIONED: the partial batch response. ON_DEMAND: the same when everything was delivered, else a throw.</summary>
    /// <exception cref="UndeliveredPartitionsException">ON_DEMAND with at least one undelivered partition.</exception>
    public static byte[] For(PollerMode mode, IReadOnlyList<UndeliveredPartition> undelivered)
    {
        ArgumentNullException.ThrowIfNull(undelivered);
        if (mode == PollerMode.OnDemand && undelivered.Count > 0)
        {
            throw new UndeliveredPartitionsException(undelivered);
        }

        return BatchResponse.Write(undelivered.Select(p => (p.MapKey, p.FirstOffset)));
    }
}
