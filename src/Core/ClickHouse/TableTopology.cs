namespace MskClickHouse.Core.ClickHouse;

/// <summary>A view that an insert into a table also feeds (system.tables <c>dependencies_table</c>), and where it writes.</summary>
/// <param name="View">The view.</param>
/// <param name="Engine">Its engine: <c>MaterializedView</c> writes rows on every insert; other view engines do not.</param>
/// <param name="Target">The table a materialized view writes to (its <c>TO</c> table or its inner table); null for other views.</param>
public sealed record DependentView(TableName View, string Engine, TableName? Target)
{
    public bool IsMaterialized => Engine == "MaterializedView";
}

/// <summary>What an engine does with the rows inserted into it. Pure.</summary>
public static class TableEngines
{
    /// <summary>
    /// Whether a read of the table right after an insert sees the rows the insert landed, so that "which offsets are
    /// present" can be asked of it: the MergeTree family (plain, Replacing…, Replicated…, Shared…), Memory and the Log
    /// family. Null keeps nothing, Buffer and Distributed forward later, Merge/View/MaterializedView read other tables,
    /// and engines the list does not name are not trusted either.
    /// </summary>
    public static bool StoresRows(string engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return engine.EndsWith("MergeTree", StringComparison.Ordinal)
            || engine is "Memory" or "Log" or "TinyLog" or "StripeLog";
    }
}
