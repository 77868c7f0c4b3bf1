using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Audit;

/// <summary>
/// One plan record of the state table (<c>&lt;source&gt;#plan@&lt;version&gt;.&lt;writer&gt;</c>, kept a day by the
/// table's TTL): the entries an invocation recorded for one partition of one source, before inserting them.
/// </summary>
public sealed record PlanRecord(string Source, PartitionKey Key, long Version, ulong Nonce, IReadOnlyList<StateEntry> Entries)
{
    /// <summary>The lowest offset the plan names: the mapping had committed every offset below its batch.</summary>
    public long FirstOffset => Entries.Count == 0 ? long.MaxValue : Entries.Min(e => e.Range.First);

    /// <summary>The source of a plan record's key: everything before <c>#plan@</c>.</summary>
    public static string SourceOf(string recordSource)
    {
        ArgumentNullException.ThrowIfNull(recordSource);
        var mark = recordSource.IndexOf(ClickHouseStateStore.IntentMark, StringComparison.Ordinal);
        return mark < 0 ? recordSource : recordSource[..mark];
    }
}
