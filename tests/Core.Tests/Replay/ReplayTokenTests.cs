using MskClickHouse.Core.Replay;

namespace MskClickHouse.Core.Tests.Replay;

public class ReplayTokenTests
{
    internal static DeadLetterRecord Letter(long offset = 7, uint generation = 0, string? value = "eyJuIjoiYSJ9", string source = "arn:aws:kafka:eu-west-1:1:cluster/a/b", string error = "rejected") =>
        new(source, "orders", 2, offset, generation, 1_764_082_800_000, "CREATE_TIME", null, value, [], error);

    [Fact]
    public void ForRecord_SameRecordInAnyGeneration_IsTheSameToken()
    {
        var first = ReplayToken.ForRecord("sink", Letter(generation: 0, error: "first reason"));
        var later = ReplayToken.ForRecord("sink", Letter(generation: 3, error: "another reason"));

        Assert.Equal(first, later);
        Assert.StartsWith("replay:sink:", first, StringComparison.Ordinal);
        Assert.Contains(":orders:2:7~", first, StringComparison.Ordinal);
    }

    [Fact]
    public void ForRecord_OtherOffsetSourceOrContent_IsAnotherToken()
    {
        var token = ReplayToken.ForRecord("sink", Letter());

        Assert.NotEqual(token, ReplayToken.ForRecord("sink", Letter(offset: 8)));
        Assert.NotEqual(token, ReplayToken.ForRecord("sink", Letter(source: "b-1:9092")));
        Assert.NotEqual(token, ReplayToken.ForRecord("sink", Letter(value: "eyJuIjoiYiJ9")));
        Assert.NotEqual(token, ReplayToken.ForRecord("sink", Letter(value: null)));
        Assert.NotEqual(token, ReplayToken.ForRecord("other-sink", Letter()));
    }

    [Fact]
    public void ForMarks_DependsOnWhatIsRecorded_NotOnOrder()
    {
        var a = new ReplayOutcome(Letter(1), ReplayOutcomeKind.Landed);
        var b = new ReplayOutcome(Letter(2), ReplayOutcomeKind.Failed, "x");

        Assert.Equal(ReplayToken.ForMarks("s", [a, b]), ReplayToken.ForMarks("s", [b, a]));
        Assert.NotEqual(ReplayToken.ForMarks("s", [a, b]), ReplayToken.ForMarks("s", [a, b with { Kind = ReplayOutcomeKind.Landed }]));
        Assert.NotEqual(ReplayToken.ForMarks("s", [a]), ReplayToken.ForMarks("s", [a with { Letter = Letter(1, generation: 1) }]));
    }
}
