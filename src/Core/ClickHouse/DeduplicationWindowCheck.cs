using System.Globalization;

namespace MskClickHouse.Core.ClickHouse;

/// <summary>
/// Whether a table's deduplication window reaches back far enough for a retry to be dropped. Pure.
/// <para>
/// A non-replicated MergeTree remembers the tokens of its last N blocks (non_replicated_deduplication_window), a
/// replicated or shared one the last N blocks (replicated_deduplication_window) within a time limit. A retried insert is
/// only dropped if its block is still among them. Between a failure and its retry, the blocks written to the same
/// table are, at most: the Kafka partitions that feed the table × the inserts each makes in the meantime × the blocks
/// each insert creates. The estimate takes the partitions seen for the table, <see cref="InvocationsBeforeRetry"/>
/// invocations per partition before the failed batch comes back (Lambda retries a failed partition on its next poll;
/// the others go on meanwhile, a few invocations each), and <see cref="BlocksPerInsert"/> blocks per insert (one per
/// table partition the rows touch, plus the halves when a rejected row has to be found by halving).
/// </para>
/// </summary>
public static class DeduplicationWindowCheck
{
    public const int InvocationsBeforeRetry = 10;

    public const int BlocksPerInsert = 4;

    /// <summary>The blocks a retry may have to reach back across.</summary>
    public static long BlocksNeeded(int partitions) => (long)Math.Max(1, partitions) * InvocationsBeforeRetry * BlocksPerInsert;

    /// <summary>A warning for the log, or null when the window is large enough.</summary>
    public static string? Assess(TableInfo info, int partitions)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (!info.Exists)
        {
            return null;
        }

        if (!info.CanDeduplicate)
        {
            return $"table {info.Table} ({info.Engine}) cannot deduplicate retried inserts, so a retry after a lost answer may duplicate rows: " +
                "use a Replicated*/Shared* MergeTree, or ALTER TABLE ... MODIFY SETTING non_replicated_deduplication_window = 1000";
        }

        var needed = BlocksNeeded(partitions);
        return info.DeduplicationWindow >= needed
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"table {info.Table} ({info.Engine}) remembers the tokens of only {info.DeduplicationWindow} blocks, fewer than the ~{needed} a retry may reach back across ({partitions} partitions × {InvocationsBeforeRetry} invocations × {BlocksPerInsert} blocks): raise its deduplication window (docs/operations.md)");
    }
}
