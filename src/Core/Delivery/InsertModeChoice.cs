using MskClickHouse.Core.Configuration;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// Which mode one data insert into a target table uses. INSERT_MODE=async applies only where an asynchronous insert is
/// as exact as a synchronous one (docs/exactly-once.md, "Insert modes"); every other insert falls back to sync:
/// <list type="bullet">
/// <item>a table that cannot deduplicate (no window, or a table that keeps nothing): the sink asks which rows are present
/// before each retry, and an asynchronous insert whose answer was lost still waits in the server's buffer and lands
/// after that question, so the retry would duplicate it;</item>
/// <item>a table with materialized views: a flush that fails in a view answers that error to every insert of the flush,
/// and the server refuses deduplication in a view that makes more than one block of an asynchronous flush.</item>
/// </list>
/// </summary>
public static class InsertModeChoice
{
    /// <param name="configured">INSERT_MODE.</param>
    /// <param name="tableDeduplicates">Whether the table (or the tables its views write to) has a deduplication window; null: unknown.</param>
    /// <param name="hasMaterializedViews">Whether materialized views read the table's inserts.</param>
    public static InsertMode For(InsertMode configured, bool? tableDeduplicates, bool hasMaterializedViews) =>
        configured == InsertMode.Async && tableDeduplicates == true && !hasMaterializedViews ? InsertMode.Async : InsertMode.Sync;
}
