using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Simulation;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>State store tests' one partition, its plans, and a state write as the sink makes one.</summary>
internal static class StateStoreWrites
{
    public static readonly SourceIdentity Source = new(KafkaEventWriter.DefaultSourceArn);

    public static readonly PartitionKey Key = new("orders", 0);

    /// <summary>A plan of <see cref="Key"/> with one range under its own token (nonce 7).</summary>
    public static PartitionState Plan(long first, long last) =>
        new(Key, 0, [new StateEntry(new OffsetRange(first, last), new OffsetRange(first, last), 0, false)], Nonce: 7);

    /// <summary>A version taken first, then the fenced insert: what the sink does for every state write.</summary>
    public static async Task<long> SaveNewAsync(this IStateStore store, SourceIdentity source, IReadOnlyCollection<StateWrite> writes, long basedOnVersion = 0)
    {
        var version = store.NewVersion(basedOnVersion);
        await store.SaveAsync(source, writes, version, CancellationToken.None);
        return version;
    }
}
