using System.Text;
using MskClickHouse.Core.Routing;

namespace MskClickHouse.Core.Tests.Routing;

/// <summary>
/// <see cref="ShortTexts"/>: a text of 0–16 bytes is found whether the bytes after it can be read (words loaded in
/// place) or the text ends the buffer (copied first), and a text that differs in any byte, or only in length, is not.
/// </summary>
public sealed class ShortTextsTests
{
    /// <summary>One text of each length 0–16 but 7 (a table keeps at most 16).</summary>
    private static readonly string[] Texts =
    [
        "", "a", "ab", "abc", "abcd", "click", "signup", "purchase", "page_view", "0123456789",
        "01234567890", "012345678901", "0123456789012", "01234567890123", "012345678901234", "0123456789012345",
    ];

    [Fact]
    public void Of_FindsEveryTextOfEveryLength_ReadInPlaceOrAtTheEndOfTheBuffer()
    {
        var table = Table(Texts);
        for (var i = 0; i < Texts.Length; i++)
        {
            var text = Encoding.UTF8.GetBytes(Texts[i]);
            // In place: the text inside a longer buffer, other bytes before and after it.
            var inPlace = Encoding.UTF8.GetBytes("{\"x\":\"" + Texts[i] + "\",\"tail\":\"zzzzzzzzzzzzzzzz\"}");
            Assert.Equal([i], table.Of(inPlace, 6, text.Length).ToArray());
            // At the end: fewer than 16 bytes readable after its start.
            var atEnd = Encoding.UTF8.GetBytes("xx" + Texts[i]);
            Assert.Equal([i], table.Of(atEnd, 2, text.Length).ToArray());
        }
    }

    [Theory]
    [InlineData("b")]
    [InlineData("logout1")]
    [InlineData("abd")]
    [InlineData("clicks")]
    [InlineData("clic")]
    [InlineData("Click")]
    [InlineData("page_viex")]
    [InlineData("0123456789012346")]
    [InlineData("1123456789012345")]
    [InlineData("01234567890123456")]
    [InlineData("ab\0")]
    [InlineData("\0")]
    public void Of_IsEmpty_ForATextThatDiffersInAByteOrInLength(string other)
    {
        var table = Table(Texts);
        var bytes = Encoding.UTF8.GetBytes(other);
        var inPlace = Encoding.UTF8.GetBytes(other + "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0abc");
        Assert.True(table.Of(bytes, 0, bytes.Length).IsEmpty);
        Assert.True(table.Of(inPlace, 0, bytes.Length).IsEmpty);
    }

    [Fact]
    public void Create_IsNull_ForATextLongerThan16BytesOrTooManyTexts()
    {
        Assert.Null(ShortTexts.Create(new Dictionary<byte[], int[]> { [Encoding.UTF8.GetBytes("01234567890123456")] = [0] }));
        Assert.Null(ShortTexts.Create(Enumerable.Range(0, ShortTexts.MaxTexts + 1).ToDictionary(i => Encoding.UTF8.GetBytes("t" + i), i => new[] { i })));
        Assert.NotNull(ShortTexts.Create(Enumerable.Range(0, ShortTexts.MaxTexts).ToDictionary(i => Encoding.UTF8.GetBytes("t" + i), i => new[] { i })));
    }

    private static ShortTexts Table(string[] texts) =>
        ShortTexts.Create(texts.Select((t, i) => (Text: Encoding.UTF8.GetBytes(t), Index: i)).ToDictionary(x => x.Text, x => new[] { x.Index }))
        ?? throw new InvalidOperationException("no layout");
}
