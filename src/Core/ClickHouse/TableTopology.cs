using System.Text.RegularExpressions;

namespace MskClickHouse.Core.ClickHouse;

/// <summary>A view that an insert into a table also feeds (system.tables <c>dependencies_table</c>), and where it writes.</summary>
/// <param name="View">The view.</param>
/// <param name="Engine">Its engine: <c>MaterializedView</c> writes rows on every insert; other view engines do not.</param>
/// <param name="Target">The table a materialized view writes to (its <c>TO</c> table or its inner table); null for other views.</param>
/// <param name="AsSelect">Its SELECT (system.tables <c>as_select</c>).</param>
public sealed partial record DependentView(TableName View, string Engine, TableName? Target, string AsSelect = "")
{
    private static readonly string[] OffsetColumns = ["_topic", "_partition", "_offset"];

    public bool IsMaterialized => Engine == "MaterializedView";

    /// <summary>
    /// Whether every row inserted into the source reaches the target with its <c>_topic</c>, <c>_partition</c> and
    /// <c>_offset</c> unchanged, so the target can answer "which offsets are present" for the source: a materialized
    /// view whose SELECT names them bare (or <c>*</c>) and has none of the clauses that drop, multiply or merge rows
    /// (WHERE, JOIN, GROUP BY, ARRAY JOIN, LIMIT, UNION, DISTINCT, …). Conservative: any such word anywhere, even in a
    /// string, makes it false.
    /// </summary>
    public bool PassesOffsetsThrough =>
        IsMaterialized && Target is not null && !RowChangingClause().IsMatch(AsSelect) && OffsetColumns.All(PassesThrough);

    /// <summary>Whether the view's SELECT names <paramref name="column"/> bare (or selects <c>*</c>): its value reaches the target unchanged.</summary>
    public bool PassesThrough(string column)
    {
        ArgumentNullException.ThrowIfNull(column);
        var m = SelectList().Match(AsSelect);
        if (!m.Success)
        {
            return false;
        }

        var items = m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries);
        return items.Contains("*") || items.Contains(column) || items.Contains("`" + column + "`");
    }

    [GeneratedRegex(@"\b(WHERE|PREWHERE|JOIN|GROUP|ARRAY|arrayJoin|LIMIT|UNION|INTERSECT|EXCEPT|DISTINCT|HAVING|QUALIFY|OFFSET|FINAL|SAMPLE)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RowChangingClause();

    [GeneratedRegex(@"^\s*SELECT\s+(.*?)\s+FROM\s", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex SelectList();
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
