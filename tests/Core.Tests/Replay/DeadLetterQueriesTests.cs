using System.Text.RegularExpressions;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Replay;

namespace MskClickHouse.Core.Tests.Replay;

public partial class DeadLetterQueriesTests
{
    private static readonly ReplayRequest Request = new(new TableName("db", "orders"), "it's \\ odd", 5);

    /// <summary>
    /// ClickHouse resolves a name in WHERE and ORDER BY to a SELECT alias first: an alias named like a column (it was
    /// `base64Encode(error) AS error`) silently filters on the alias. Found by the engine tests; kept by this one.
    /// </summary>
    [Fact]
    public void SelectPending_NoAliasIsNamedLikeADeadLetterColumn()
    {
        var sql = DeadLetterQueries.SelectPending(new TableName("db", "kafka_dead_letters"), "sink", Request);
        var columns = ColumnNames().Matches(DeadLetters.CreateTableSql(new TableName("db", "kafka_dead_letters"))).Select(m => m.Groups[1].Value).ToHashSet();
        var aliases = Alias().Matches(sql).Select(m => m.Groups[1].Value).ToList();

        Assert.Contains("error", columns);
        Assert.NotEmpty(aliases);
        Assert.DoesNotContain(aliases, columns.Contains);
    }

    [Fact]
    public void Queries_QuoteTheFilterAndTheNames()
    {
        var sql = DeadLetterQueries.SelectPending(new TableName("db", "kafka_dead_letters"), "si'nk", Request);

        Assert.Contains("position(error, 'it\\'s \\\\ odd') > 0", sql, StringComparison.Ordinal);
        Assert.Contains("sink_id = 'si\\'nk'", sql, StringComparison.Ordinal);
        Assert.Contains("target_table = 'db.orders'", sql, StringComparison.Ordinal);
        Assert.Contains("LIMIT 5 ", sql, StringComparison.Ordinal);
        Assert.Contains("select_sequential_consistency = 1", sql, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^\s+([a-z_]+) [A-Z]", RegexOptions.Multiline)]
    private static partial Regex ColumnNames();

    [GeneratedRegex(@" AS ([a-z_]+)")]
    private static partial Regex Alias();
}
