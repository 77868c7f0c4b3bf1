using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Delivery.State;

/// <summary>
/// Where a range's token stood against its table's deduplication window when the range was first recorded: the table's
/// highest block number then (an insert counter, read with the table's other facts at most a minute earlier, so never
/// ahead) and the time.
/// </summary>
public readonly record struct WindowMark(long Block, long AtMs);

/// <summary>
/// The window guard (docs/exactly-once.md, "The deduplication window"). ClickHouse drops a repeated token only while
/// its block is among the table's last N blocks (and, on replicated and shared engines, younger than a number of
/// seconds); a range retried after more inserts than that, or later than that, is inserted again. Pure.
/// </summary>
public static class WindowGuard
{
    /// <summary>
    /// True when the token recorded at <paramref name="mark"/> may have left the window: at least as many blocks were
    /// written to the table since as it remembers, or it is older than its time limit. A mark of unknown origin (a state
    /// written before marks) is trusted, as before.
    /// </summary>
    public static bool MayHaveForgotten(WindowMark? mark, long blockNow, DateTimeOffset now, long windowBlocks, long? windowSeconds)
    {
        if (mark is not { Block: >= 0 } m)
        {
            return false;
        }

        var since = blockNow - m.Block;
        var ageSeconds = (now.ToUnixTimeMilliseconds() - m.AtMs) / 1000;
        return since >= windowBlocks || (windowSeconds is { } s && ageSeconds >= s);
    }

    /// <summary>The new entries of a plan (no mark yet) marked with the table's block number and the time now.</summary>
    public static PartitionState Stamp(PartitionState state, WindowMark now)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Entries.All(e => e.Mark is not null)
            ? state
            : state with { Entries = state.Entries.Select(e => e.Mark is null ? e with { Mark = now } : e).ToList() };
    }

    /// <summary>The query for a table's highest block number now (its parts' max_block_number; 0 for an empty table).</summary>
    public static string BlockNumberSql(TableName table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return $"SELECT max(max_block_number) FROM system.parts WHERE database = {SqlIdentifier.Literal(table.Database)} AND table = {SqlIdentifier.Literal(table.Table)} FORMAT TSV";
    }
}
