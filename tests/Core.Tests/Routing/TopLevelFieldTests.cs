using System.Text;
using MskClickHouse.Core.Routing;

namespace MskClickHouse.Core.Tests.Routing;

public sealed class TopLevelFieldTests
{
    private static bool Holds(string json, string name, string text) =>
        TopLevelField.HoldsText(Encoding.UTF8.GetBytes(json), Encoding.UTF8.GetBytes(name), Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("""{"type":"click"}""", "click", true)]
    [InlineData("""{"type" : "click" , "n":1}""", "click", true)]
    [InlineData("""{"type":"clicks"}""", "click", false)]
    [InlineData("""{"type":5}""", "5", true)]
    [InlineData("""{"type":"5"}""", "5", true)]
    [InlineData("""{"type":5.0}""", "5", false)]
    [InlineData("""{"type":true}""", "true", true)]
    [InlineData("""{"type":null}""", "null", false)]
    [InlineData("""{"type":{"x":"click"}}""", "click", false)]
    [InlineData("""{"type":["click"]}""", "click", false)]
    [InlineData("""{"\u0074ype":"cl\u0069ck"}""", "click", true)]
    [InlineData("""{"type":"caf\u00e9"}""", "café", true)]
    [InlineData("""{"type":"a\"b"}""", "a\"b", true)]
    [InlineData("""{"type":"click","padding":"0123456789"}""", "click", true)]
    [InlineData("""{"type":"an_event_type_longer_than_16_bytes","n":1}""", "an_event_type_longer_than_16_bytes", true)]
    [InlineData("""{"type":"an_event_type_longer_than_16_bytes","n":1}""", "an_event_type_longer_than_16", false)]
    [InlineData("""{"type":"a\"b","padding":"0123456789"}""", "a\"b", true)]
    [InlineData("""{"type":"abcdefghijklmnopq\"r","n":1}""", "abcdefghijklmnopq\"r", true)]
    [InlineData("""{"type":"abcdefghijklmnopqrstuvwxyz""", "abcdefghijklmnopqrstuvwxyz", false)]
    public void HoldsText_ComparesTheTopLevelFieldAsText(string json, string text, bool expected) =>
        Assert.Equal(expected, Holds(json, "type", text));

    [Theory]
    [InlineData("""{"a":{"type":"click"},"b":"type","c":["type",{"type":"click"}]}""")]
    [InlineData("""{"note":"\"type\":\"click\"","x":1}""")]
    [InlineData("""{"a":1}""")]
    public void HoldsText_NestedOrQuotedNamesAreNotTheTopLevelField(string json) => Assert.False(Holds(json, "type", "click"));

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("""{"type":"cli""")]
    [InlineData("""{"type":""")]
    [InlineData("""{"type\""")]
    [InlineData("""{"type":}""")]
    [InlineData("""[{"type":"click"}]""")]
    public void HoldsText_UnreadableValues_AreNotEqual_AndNeverReadOutside(string json) => Assert.False(Holds(json, "type", "click"));

    [Fact]
    public void Find_StopsAtTheFirstMemberOfTheName()
    {
        var json = """{"type":"click","type":"view"}"""u8;
        Assert.True(TopLevelField.Find(json, "type"u8, out var start, out var length, out var isString));
        Assert.True(isString);
        Assert.Equal("click", Encoding.UTF8.GetString(json.Slice(start, length)));
    }
}
