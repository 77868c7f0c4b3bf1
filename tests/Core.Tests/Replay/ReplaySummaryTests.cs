using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Replay;

namespace MskClickHouse.Core.Tests.Replay;

public class ReplaySummaryTests
{
    [Fact]
    public void ToJson_CountsEachOutcome_AndListsFailuresWithTheirNewGeneration()
    {
        var outcomes = new[]
        {
            new ReplayOutcome(ReplayTokenTests.Letter(1), ReplayOutcomeKind.Landed),
            new ReplayOutcome(ReplayTokenTests.Letter(2), ReplayOutcomeKind.Landed),
            new ReplayOutcome(ReplayTokenTests.Letter(3), ReplayOutcomeKind.AlreadyPresent),
            new ReplayOutcome(ReplayTokenTests.Letter(4, generation: 1), ReplayOutcomeKind.Failed, "code 27"),
        };

        using var doc = JsonDocument.Parse(new ReplaySummary(new TableName("db", "t"), 4, outcomes, 9, 1, Complete: false, ["other-sink"]).ToJson());
        var root = doc.RootElement;

        Assert.Equal("db.t", root.GetProperty("table").GetString());
        Assert.Equal(4, root.GetProperty("selected").GetInt32());
        Assert.Equal(2, root.GetProperty("replayed").GetInt32());
        Assert.Equal(1, root.GetProperty("alreadyPresent").GetInt32());
        Assert.Equal(1, root.GetProperty("stillFailing").GetInt32());
        Assert.Equal(9, root.GetProperty("alreadyReplayed").GetInt32());
        Assert.Equal(1, root.GetProperty("unreplayable").GetInt32());
        Assert.False(root.GetProperty("complete").GetBoolean());
        Assert.Equal("other-sink", Assert.Single(root.GetProperty("otherSinkIds").EnumerateArray()).GetString());
        var failure = Assert.Single(root.GetProperty("failures").EnumerateArray());
        Assert.Equal(4, failure.GetProperty("offset").GetInt64());
        Assert.Equal(2, failure.GetProperty("generation").GetInt32());
        Assert.Equal("code 27", failure.GetProperty("reason").GetString());
    }
}
