using System.Text;
using MskClickHouse.Core.Json;

namespace MskClickHouse.Core.Tests.Json;

public sealed class TopLevelMembersTests
{
    private static List<string> Keys(string json) => Of(Encoding.UTF8.GetBytes(json));

    private static List<string> Of(ReadOnlySpan<byte> json)
    {
        var names = new List<string>();
        var members = new TopLevelMembers(json);
        while (members.MoveNext())
        {
            names.Add(TopLevelMembers.Decode(members.Name));
        }

        return names;
    }

    [Fact]
    public void Of_FlatObject_ListsItsNamesInOrder() =>
        Assert.Equal(["id", "amount", "note"], Keys("""{"id":1,"amount":9.5,"note":"x"}"""));

    [Fact]
    public void Of_NestedObjectsAndArrays_AreSkipped_OnlyTopLevelNamesCount() =>
        Assert.Equal(["a", "b", "c"], Keys("""{"a":{"x":{"y":1},"z":[{"q":2}]},"b":[1,[2,{"w":3}]],"c":null}"""));

    [Fact]
    public void Of_StringValuesThatLookLikeNamesOrBrackets_AreNotNames() =>
        Assert.Equal(["s", "t"], Keys("""{"s":"k\":{\"fake\":1}","t":"} ] { [ \\"}"""));

    [Fact]
    public void Of_WhitespaceAroundColons_AndTrailingNewline_AreAccepted() =>
        Assert.Equal(["a", "b"], Keys("{ \"a\" :\t1 ,\r\n \"b\"\n: { \"c\": 2 } }\n"));

    [Fact]
    public void Of_EscapedName_IsUnescapedAsClickHouseReadsIt() =>
        Assert.Equal(["Ab", "q\"uote", "é"], Keys("""{"\u0041b":1,"q\"uote":2,"\u00e9":3}"""));

    [Fact]
    public void Of_NonAsciiNames_AreDecodedFromUtf8() =>
        Assert.Equal(["größe", "名前"], Keys("""{"größe":1,"名前":"x"}"""));

    [Fact]
    public void Of_EmptyObject_HasNoNames() => Assert.Empty(Keys("{}"));

    [Fact]
    public void Of_StopsAtTheEndOfTheFirstObject() =>
        Assert.Equal(["a"], Keys("""{"a":1}{"b":2}"""));

    [Fact]
    public void MoveNext_HandsOutRawNames_AndWhereEachValueStarts()
    {
        var json = """{"\u0041": 1,"b":{"c":2}}"""u8;
        var members = new TopLevelMembers(json);

        Assert.True(members.MoveNext());
        Assert.Equal("\\u0041", Encoding.UTF8.GetString(members.Name));
        Assert.Equal((byte)'1', json[members.ValueStart]);
        Assert.True(members.MoveNext());
        Assert.Equal("b", Encoding.UTF8.GetString(members.Name));
        Assert.Equal((byte)'{', json[members.ValueStart]);
        Assert.False(members.MoveNext());
        Assert.False(members.MoveNext());
    }

    [Fact]
    public void MoveNext_TruncatedOrArbitraryBytes_NeverThrows_AndStopsAtTheEnd()
    {
        var row = Encoding.UTF8.GetBytes("""{"a":"x\\\"y","b":[1,{"c":"}"}],"d":{"e":"\\"}}""");
        for (var n = 0; n <= row.Length; n++)
        {
            Of(row.AsSpan(0, n)); // every prefix, including ones ending inside a string or an escape
        }

        var random = new Random(17);
        var noise = new byte[64];
        for (var i = 0; i < 2000; i++)
        {
            random.NextBytes(noise);
            noise[0] = (byte)'{';
            for (var j = 1; j < noise.Length; j++)
            {
                noise[j] = "{}[]\\\":,ab "u8[noise[j] % 11];
            }

            Of(noise);
        }
    }

    [Fact]
    public void Of_NamesAndValuesOfEveryLengthAroundTheScalarSearch_MatchAParser()
    {
        // Names, strings and escapes that end before, at and after the bytes looked at one by one (16), then in the vector search.
        var random = new Random(5);
        for (var i = 0; i < 3000; i++)
        {
            var members = new List<string>();
            var expected = new List<string>();
            for (var m = 0; m < 1 + random.Next(5); m++)
            {
                var name = Text(random, random.Next(40)) + m;
                var value = random.Next(4) switch
                {
                    0 => "\"" + Text(random, random.Next(40)) + "\"",
                    1 => new string('9', 1 + random.Next(30)),
                    2 => "{\"" + Text(random, random.Next(30)) + "\":[\"" + Text(random, random.Next(30)) + "\"]}",
                    _ => "[" + new string(' ', random.Next(20)) + "{}]",
                };
                members.Add("\"" + name + "\":" + value);
                expected.Add(System.Text.Json.JsonDocument.Parse("\"" + name + "\"").RootElement.GetString()!);
            }

            var json = "{" + string.Join(",", members) + "}";
            Assert.Equal(expected, Keys(json));
        }
    }

    /// <summary>JSON string content of <paramref name="length"/> characters, escapes (\", \\, \u00e9) anywhere.</summary>
    private static string Text(Random random, int length)
    {
        var text = new StringBuilder();
        while (text.Length < length)
        {
            text.Append(random.Next(8) switch
            {
                0 => "\\\"",
                1 => "\\\\",
                2 => "\\u00e9",
                3 => "{[",
                _ => "abcdefgh"[random.Next(8)].ToString(),
            });
        }

        return text.ToString();
    }

    [Theory]
    [InlineData("x\\\\y", "x\\\\y", false)] // raw x\\y is x\y unescaped: the same bytes as the text, not the same text
    [InlineData("x\\\\y", "x\\y", true)]
    [InlineData("\\u0041", "A", true)]
    [InlineData("\\u00e9t\\u00e9", "été", true)]
    [InlineData("ab", "abc", false)]
    [InlineData("abc", "ab", false)]
    [InlineData("\\ud800", "\\ud800", false)] // a lone surrogate equals nothing, and does not throw
    [InlineData("\\ud800x", "x", false)]
    [InlineData("\\q", "q", false)] // not an escape of JSON
    public void TextEquals_ComparesTheUnescapedText(string raw, string text, bool equal) =>
        Assert.Equal(equal, TopLevelMembers.TextEquals(Encoding.UTF8.GetBytes(raw), Encoding.UTF8.GetBytes(text)));
}
