using System.Text;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Tests.Delivery;

public class ParseClassificationTests
{
    private static readonly TableName Table = new("db", "t");
    private static readonly Dictionary<string, string> Settings = new() { ["date_time_input_format"] = "best_effort", ["insert_deduplication_token"] = "tok", ["input_format_allow_errors_num"] = "0" };

    private static (int, ReadOnlyMemory<byte>) Row(int i, string text) => (i, Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Build_TagsEachObjectRowAndEndsWithTheAnchor()
    {
        var sql = Assert.Single(ParseClassification.Build(Table, [Row(3, "{\"v\":1}\n"), Row(7, "{}")], Settings)!);
        Assert.Contains("{\"__sink_row\":3,\"v\":1}", sql, StringComparison.Ordinal);
        Assert.Contains("{\"__sink_row\":7}", sql, StringComparison.Ordinal);
        Assert.Contains("{\"__sink_row\":4294967295}", sql, StringComparison.Ordinal);
        Assert.Contains("date_time_input_format = 'best_effort'", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("insert_deduplication_token", sql, StringComparison.Ordinal);
        Assert.Contains("input_format_allow_errors_ratio = 1", sql, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"scalar\"")]
    [InlineData("{\"a\":1}\n{\"b\":2}")]
    public void Build_RowThatIsNotOneObjectOnALine_IsNotConclusive(string text) =>
        Assert.Null(ParseClassification.Build(Table, [Row(0, "{\"v\":1}"), Row(1, text)], Settings));

    /// <summary>A sink user without CREATE TEMPORARY TABLE (format() needs it): code 497, the rows are probed instead.</summary>
    [Fact]
    public async Task Run_UserMayNotUseTableFunctions_IsNotConclusive()
    {
        var (parsed, requests) = await ParseClassification.RunAsync(
            _ => throw new ClickHouseException("Code: 497. DB::Exception: msk_sink: Not enough privileges. To execute this query, it's necessary to have the grant CREATE TEMPORARY TABLE ON *.*. (ACCESS_DENIED)", ClickHouseErrorKind.Permission, 497),
            Table,
            [0, 1],
            i => Encoding.UTF8.GetBytes("{\"v\":1}"),
            Settings);

        Assert.Null(parsed);
        Assert.Equal(1, requests);
    }

    [Fact]
    public void Build_ManyRows_SplitsBelowTheQuerySizeLimit()
    {
        var rows = Enumerable.Range(0, 5_000).Select(i => Row(i, "{\"v\":\"" + new string('x', 50) + "\"}")).ToList();
        var queries = ParseClassification.Build(Table, rows, Settings)!;
        Assert.True(queries.Count > 1);
        Assert.All(queries, q => Assert.InRange(Encoding.UTF8.GetByteCount(q), 1, ParseClassification.MaxQueryBytes));
        Assert.Equal(5_000, queries.Sum(q => q.Split("\"__sink_row\":").Length - 1) - queries.Count);
    }

    [Fact]
    public void Parse_AnswerWithoutAnchorOrWithAStranger_IsNotConclusive()
    {
        var asked = new HashSet<int> { 1, 2 };
        Assert.Equal([1], ParseClassification.Parse("1\n4294967295\n"u8, asked)!);
        Assert.Null(ParseClassification.Parse("1\n"u8, asked));
        Assert.Null(ParseClassification.Parse("1\n9\n4294967295\n"u8, asked));
        Assert.Null(ParseClassification.Parse("1\n1\n4294967295\n"u8, asked));
    }
}
