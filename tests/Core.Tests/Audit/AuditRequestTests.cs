using System.Text;
using MskClickHouse.Core.Audit;
using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Tests.Audit;

public class AuditRequestTests
{
    private static AuditRequest Parse(string json) => AuditRequest.Parse(Encoding.UTF8.GetBytes(json), 24, "db");

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("""{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-29T22:00:00Z","region":"eu-west-1","resources":["arn:aws:events:eu-west-1:123456789012:rule/r"],"detail":{}}""")]
    public void Parse_ScheduledEventOrEmpty_UsesTheConfiguredWindowAndEveryTable(string payload)
    {
        Assert.Equal(new AuditRequest(24, null), Parse(payload));
    }

    [Fact]
    public void Parse_WindowAndTables_AreRead()
    {
        var request = Parse("""{"windowHours": 6, "tables": ["other.t", "u"]}""");

        Assert.Equal(6, request.WindowHours);
        Assert.Equal([new TableName("other", "t"), new TableName("db", "u")], request.Tables);
    }

    [Theory]
    [InlineData("""{"windowHours": 0}""", "windowHours")]
    [InlineData("""{"windowHours": "6"}""", "windowHours")]
    [InlineData("""{"tables": []}""", "tables")]
    [InlineData("[1]", "JSON object")]
    [InlineData("{", "not JSON")]
    public void Parse_BadPayload_NamesWhatIsWrong(string payload, string named)
    {
        var e = Assert.Throws<AuditRequestException>(() => Parse(payload));

        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }
}
