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

    [Theory]
    [InlineData("""{"type":"click"}""", "type")]
    [InlineData("{ \"a\" : 1 , \"type\"\t:\n \"x\" }", "type")]
    [InlineData("""{"a":"type","type":1}""", "type")] // a string value equal to the name is not the name
    [InlineData("""{"a":{"type":1},"b":["type"],"type":2}""", "type")]
    [InlineData("""{"typ":1,"types":2,"\u0074ype":3,"type":4}""", "type")] // the escaped one is the first
    [InlineData("""{"q\"uote":1,"q\\x":2}""", "q\"uote")]
    [InlineData("""{"q\"uote":1,"q\\x":2}""", "q\\x")]
    [InlineData("""{"q\\x":1,"x":2}""", "q\\\\x")] // raw q\\x is q\x: not a name holding the raw bytes
    [InlineData("""{"":1,"a":2}""", "")]
    [InlineData("""{"a":1}{"type":2}""", "type")]
    [InlineData("""[{"type":1}]""", "type")]
    [InlineData("""{"type""", "type")]
    [InlineData("""{"type":""", "type")]
    public void ValueStartOf_IsTheValueStartOfTheFirstMemberOfTheName(string json, string name) =>
        Assert.Equal(FirstValueStart(Encoding.UTF8.GetBytes(json), Encoding.UTF8.GetBytes(name)), TopLevelMembers.ValueStartOf(Encoding.UTF8.GetBytes(json), Encoding.UTF8.GetBytes(name)));

    [Fact]
    public void ValueStartOf_AgreesWithMoveNext_OverGeneratedObjectsPrefixesAndNoise()
    {
        var random = new Random(11);
        var inputs = new List<byte[]>();
        for (var i = 0; i < 1500; i++)
        {
            var members = Enumerable.Range(0, 1 + random.Next(5)).Select(m => "\"" + Text(random, random.Next(12)) + "\"" + (random.Next(3) == 0 ? " : " : ":") + (random.Next(2) == 0 ? "\"" + Text(random, random.Next(12)) + "\"" : "{\"a\":[1]}"));
            inputs.Add(Encoding.UTF8.GetBytes("{" + string.Join(",", members) + "}"));
        }

        var row = Encoding.UTF8.GetBytes("""{"a":"x\\\"y","b":[1,{"c":"}"}],"d":{"e":"\\"},"é":1}""");
        inputs.AddRange(Enumerable.Range(0, row.Length + 1).Select(n => row[..n]));
        for (var i = 0; i < 500; i++)
        {
            inputs.Add([(byte)'{', .. Enumerable.Range(0, 40).Select(_ => "{}[]\\\":,ab "u8[random.Next(11)])]);
        }

        string[] names = ["a", "b", "ab", "é", "", "\"", "\\", "absent"];
        foreach (var json in inputs)
        {
            var asked = names.Concat(Of(json)).Select(Encoding.UTF8.GetBytes);
            foreach (var name in asked)
            {
                Assert.True(FirstValueStart(json, name) == TopLevelMembers.ValueStartOf(json, name), $"{Encoding.UTF8.GetString(json)} / {Encoding.UTF8.GetString(name)}");
            }
        }
    }

    private static int FirstValueStart(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name)
    {
        var members = new TopLevelMembers(json);
        while (members.MoveNext())
        {
            if (TopLevelMembers.TextEquals(members.Name, name))
            {
                return members.ValueStart;
            }
        }

        return -1;
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
