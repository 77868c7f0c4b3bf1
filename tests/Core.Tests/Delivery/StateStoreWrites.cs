using MskClickHouse.Core.Delivery;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>A state write as the sink makes one: a version taken first, then the fenced insert.</summary>
internal static class StateStoreWrites
{
    public static async Task<long> SaveNewAsync(this IStateStore store, SourceIdentity source, IReadOnlyCollection<StateWrite> writes, long basedOnVersion = 0)
    {
        var version = store.NewVersion(basedOnVersion);
        await store.SaveAsync(source, writes, version, CancellationToken.None);
        return version;
    }
}
