namespace MskClickHouse.Core.Configuration;

/// <summary>INSERT_MODE: how data inserts into target tables are written (docs/exactly-once.md, "Insert modes").</summary>
public enum InsertMode
{
    /// <summary>Each insert is written as its own part before it is answered (<c>async_insert = 0</c>).</summary>
    Sync,

    /// <summary>
    /// Server-side asynchronous inserts, waited for (<c>async_insert = 1</c>, <c>wait_for_async_insert = 1</c>,
    /// <c>async_insert_deduplicate = 1</c>): concurrent inserts into one table share a part.
    /// </summary>
    Async,
}
