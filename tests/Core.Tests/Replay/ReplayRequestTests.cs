using System.Text;
using MskClickHouse.Core.Replay;

namespace MskClickHouse.Core.Tests.Replay;

public class ReplayRequestTests
{
    private static ReplayRequest Parse(string json) => ReplayRequest.Parse(Encoding.UTF8.GetBytes(json), "default");

    [Fact]
    public void Parse_AllFields_ReadsThem()
    {
        var r = Parse("""{"table": "db.orders", "errorContains": "code 27", "limit": 50}""");

        Assert.Equal("db.orders", r.Table.ToString());
        Assert.Equal("code 27", r.ErrorContains);
        Assert.Equal(50, r.Limit);
    }

    [Fact]
    public void Parse_TableOnly_UsesTheDefaultDatabaseAndLimit()
    {
        var r = Parse("""{"table": "orders"}""");

        Assert.Equal("default.orders", r.Table.ToString());
        Assert.Null(r.ErrorContains);
        Assert.Equal(ReplayRequest.DefaultLimit, r.Limit);
    }

    [Theory]
    [InlineData("""{"limit": 5}""", "table", "is required")]
    [InlineData("""{"table": ""}""", "table", "is required")]
    [InlineData("""{"table": 7}""", "table", "a number")]
    [InlineData("""{"table": "a.b.c"}""", "table", "not a table name")]
    [InlineData("""{"table": "t", "limit": 0}""", "limit", "from 1 to")]
    [InlineData("""{"table": "t", "limit": 10001}""", "limit", "from 1 to")]
    [InlineData("""{"table": "t", "limit": "5"}""", "limit", "expected an integer")]
    [InlineData("""{"table": "t", "limit": 1.5}""", "limit", "expected an integer")]
    [InlineData("""{"table": "t", "errorContains": 3}""", "errorContains", "expected a string")]
    [InlineData("""{"table": "t", "tabel": "x"}""", "tabel", "not a field")]
    [InlineData("""{"table": "db.(unrouted)"}""", "table", "unrouted dead letters")]
    [InlineData("""{"table": "(unrouted)"}""", "table", "Unrouted dead letters")]
    [InlineData("""[1]""", "payload", "an array")]
    [InlineData("""{"table": """, "payload", "not valid JSON")]
    public void Parse_BadPayload_NamesTheField(string json, string field, string problem)
    {
        var e = Assert.Throws<ReplayRequestException>(() => Parse(json));

        Assert.Equal(field, e.Field);
        Assert.Contains($"'{field}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
        Assert.False(e.IsRetryable);
    }
}
