using System.Buffers;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Replay;

namespace MskClickHouse.Core.Tests.Replay;

public class ReplayMarksTests
{
    private static List<JsonElement> Rows(params ReplayOutcome[] outcomes)
    {
        var body = new ArrayBufferWriter<byte>();
        ReplayMarks.Encode(body, outcomes, "sink", new TableName("db", "t"), DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000));
        return System.Text.Encoding.UTF8.GetString(body.WrittenSpan).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    [Fact]
    public void Encode_Landed_AppendsOneOutcomeRowWithoutTheRecord()
    {
        var row = Assert.Single(Rows(new ReplayOutcome(ReplayTokenTests.Letter(generation: 2, error: "old reason"), ReplayOutcomeKind.Landed)));

        Assert.Equal(2, row.GetProperty("generation").GetInt64());
        Assert.Equal("2027-01-15T08:00:00.000Z", row.GetProperty("replayed_at").GetString());
        Assert.Equal(string.Empty, row.GetProperty("replay_error").GetString());
        Assert.Equal("old reason", row.GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, row.GetProperty("value").ValueKind);
        Assert.Equal("db.t", row.GetProperty("target_table").GetString());
        Assert.Equal(7, row.GetProperty("offset").GetInt64());
    }

    [Fact]
    public void Encode_Failed_MarksTheDeadLetterAndAppendsTheNextGenerationWithTheRecord()
    {
        var rows = Rows(new ReplayOutcome(ReplayTokenTests.Letter(generation: 0, value: "eyJuIjoiYSJ9"), ReplayOutcomeKind.Failed, "new reason"));

        Assert.Equal(2, rows.Count);
        Assert.Equal("new reason", rows[0].GetProperty("replay_error").GetString());
        Assert.Equal(0, rows[0].GetProperty("generation").GetInt64());
        Assert.Equal(1, rows[1].GetProperty("generation").GetInt64());
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("replayed_at").ValueKind);
        Assert.Equal("new reason", rows[1].GetProperty("error").GetString());
        Assert.Equal("""{"n":"a"}""", rows[1].GetProperty("value").GetString());
        Assert.Equal("2025-11-25T15:00:00.000Z", rows[1].GetProperty("timestamp").GetString());
        Assert.Equal("CREATE_TIME", rows[1].GetProperty("timestamp_type").GetString());
    }
}
