using MskClickHouse.Core.Tests.ClickHouse;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// What the engine (chDB, ClickHouse 26.7) answers when asked to classify many rows in one request: a SELECT over
/// <c>format(JSONEachRow, structure, rows)</c> with <c>input_format_allow_errors_ratio = 1</c>, each row tagged with
/// its index in an extra key, returning the indexes of the rows that parse (the complement would be the bad ones).
/// These answers decide whether BadRowIsolation may use such a request (docs/operations.md, "Cost of isolating").
/// </summary>
public class BadRowClassificationEngineTests(ClickHouseFixture fixture)
{
    private const string GoodUuid = "\"61f0c404-5cb3-11e7-907b-a6006ad3dba0\"";

    // Rows 0, 3, 6, 7, 9 are bad; the good ones are 1, 2, 4, 5, 8.
    private static readonly int[] Bad = [0, 3, 6, 7, 9];

    private static string Rows(string good, string bad, string padding) =>
        string.Concat(Enumerable.Range(0, 10).Select(i => $"{{\"__sink_row\":{i},\"v\":{(Bad.Contains(i) ? bad : good)}}}{padding}\n"));

    private static string Literal(string s) => "'" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    private async Task<string> GoodRowsAsync(string type, string rows, string settings = "input_format_allow_errors_ratio = 1")
    {
        try
        {
            var answer = await fixture.Server.QueryAsync(
                $"SELECT __sink_row FROM format(JSONEachRow, '__sink_row UInt64, v {type.Replace("'", "\\'", StringComparison.Ordinal)}', {Literal(rows)}) SETTINGS {settings} FORMAT TSV", TestContext.Current.CancellationToken);
            return string.Join(",", answer.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        catch (Exception e)
        {
            return "error: " + e.Message;
        }
    }

    [Fact]
    public async Task AllowErrors_BadUuidRows_AlsoDropTheGoodRowThatFollowsEach()
    {
        // The UUID reader runs past the end of the bad row: the next row is lost with it, so the rows that do not come
        // back are not all bad. The answer is a subset of the good rows, never the exact set.
        Assert.Equal("2,5,8", await GoodRowsAsync("UUID", Rows(GoodUuid, "\"bad\"", string.Empty)));

        // 100 spaces after each row keep the overrun inside the padding: here the set comes back exact.
        Assert.Equal("1,2,4,5,8", await GoodRowsAsync("UUID", Rows(GoodUuid, "\"bad\"", new string(' ', 100))));
    }

    [Fact]
    public async Task AllowErrors_NoRowParses_FailsWithCode10UnlessAnAlwaysGoodRowIsAdded()
    {
        var bad = string.Concat(Enumerable.Range(0, 4).Select(i => $"{{\"__sink_row\":{i},\"v\":\"bad\"}}\n"));
        var answer = await GoodRowsAsync("UUID", bad);
        Assert.Contains("Code: 10.", answer, StringComparison.Ordinal);
        Assert.Contains("Not found column or subcolumn __sink_row in block", answer, StringComparison.Ordinal);

        // The anchor row ParseClassification ends every chunk with: every column omitted, so each takes its default.
        Assert.Equal("4294967295", await GoodRowsAsync("UUID", bad + "{\"__sink_row\":4294967295}\n"));
    }

    [Fact]
    public async Task AllowErrorsNum_CountsTheBadRowsOfASelect()
    {
        var rows = Rows("1", "\"x\"", string.Empty);
        Assert.Equal("1,2,4,5,8", await GoodRowsAsync("Int32", rows, "input_format_allow_errors_num = 5"));
        Assert.StartsWith("error: ", await GoodRowsAsync("Int32", rows, "input_format_allow_errors_num = 4"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Format_HasNoRowNumberVirtualColumn()
    {
        Assert.Equal("0,1,2,3,4,5,6,7,8,9", await GoodRowsAsync("Int32", Rows("1", "1", string.Empty)));
        var error = string.Empty;
        try
        {
            await fixture.Server.QueryAsync("SELECT _row_number FROM format(JSONEachRow, 'v Int32', '{\"v\":1}')", TestContext.Current.CancellationToken);
        }
        catch (Exception e)
        {
            error = e.Message;
        }

        Assert.Contains("_row_number", error, StringComparison.Ordinal);
    }

    /// <summary>Every corpus type with a parse-level rejection, padded: is the set of rows that parse exact?</summary>
    [Fact]
    public async Task AllowErrors_PaddedRows_WhichCorpusTypesComeBackExact()
    {
        var inexact = new List<string>();
        foreach (var c in RejectedValueCorpusTests.Corpus.Where(c => c.Code is not null && c.Extra.Length == 0))
        {
            var answer = await GoodRowsAsync(c.Type, Rows(c.Good, c.Bad, new string(' ', 100)));
            TestContext.Current.TestOutputHelper?.WriteLine($"{c.Name}: {answer}");
            if (answer != "1,2,4,5,8")
            {
                inexact.Add(c.Name + "=" + answer);
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine("inexact: " + string.Join(" | ", inexact));
        Assert.Equal(string.Empty, string.Join(" | ", inexact));
    }
}
