using System.Text;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.ClickHouse;

/// <summary>Literals and quoted identifiers as the engine reads them back: every escaped character, and the runs between.</summary>
public class SqlIdentifierTests(ClickHouseFixture fixture)
{
    private static readonly string[] Samples =
    [
        "plain",
        string.Empty,
        "it's a `name`",
        "back\\slash and \\' and \\`",
        "tab\there, line\nbreak, return\r, nul\0end",
        "héllo wörld ✓ 𝄞",
        "{\"rows\":\"a\\nb\",\"q\":\"'\"}\n{\"second\":1}",
        new string('x', 5000) + "'" + new string('y', 5000),
    ];

    public static TheoryData<string> Texts() => new(Samples);

    [Fact]
    public void Literal_EscapesEachSpecialCharacter_AndKeepsTheRunsBetween()
    {
        Assert.Equal(@"'a\\b\'c`d\0e\nf\rg\th'", SqlIdentifier.Literal("a\\b'c`d\0e\nf\rg\th"));
        Assert.Equal(@"`a\\b'c\`d`", SqlIdentifier.Quote("a\\b'c`d"));
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public async Task Literal_ReadBackByTheEngine_IsTheSameText(string text)
    {
        var hex = await fixture.Server.QueryAsync($"SELECT hex({SqlIdentifier.Literal(text)})", TestContext.Current.CancellationToken);

        Assert.Equal(Convert.ToHexString(Encoding.UTF8.GetBytes(text)), hex.Trim());
    }

    /// <summary><see cref="Texts"/> but the empty one: an empty identifier is not a name.</summary>
    public static TheoryData<string> Names() => new(Samples.Where(t => t.Length > 0));

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Quote_AsAColumnAlias_IsTheSameName(string text)
    {
        var row = await fixture.Server.QueryAsync($"SELECT 1 AS {SqlIdentifier.Quote(text)} FORMAT JSONEachRow", TestContext.Current.CancellationToken);

        using var doc = JsonDocument.Parse(row);
        Assert.Equal(text, doc.RootElement.EnumerateObject().Single().Name);
    }
}
