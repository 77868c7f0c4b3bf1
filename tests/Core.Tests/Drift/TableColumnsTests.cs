using MskClickHouse.Core.Drift;

namespace MskClickHouse.Core.Tests.Drift;

public sealed class TableColumnsTests
{
    private static readonly TableColumn[] Columns =
    [
        new("id", string.Empty),
        new("n.x", string.Empty),
        new("n.y", string.Empty),
        new("payload", string.Empty),
        new("total", "ALIAS"),
        new("doubled", "MATERIALIZED"),
        new("raw", "EPHEMERAL"),
        new("created", "DEFAULT"),
        new("_topic", string.Empty),
    ];

    [Theory]
    [InlineData("id", true)]
    [InlineData("ID", true)] // ClickHouse matches JSON names to columns case-insensitively
    [InlineData("payload", true)] // a JSON column receives its own name, whatever the value holds
    [InlineData("n.x", true)]
    [InlineData("N.Y", true)]
    [InlineData("raw", false)] // EPHEMERAL: only with an INSERT column list, which the sink does not send
    [InlineData("created", true)]
    [InlineData("_topic", true)]
    [InlineData("n", false)] // Nested as one object: only with input_format_import_nested_json=1
    [InlineData("payload.k", false)] // a dotted name into a JSON column is dropped
    [InlineData("total", false)] // ALIAS: computed, the value is dropped
    [InlineData("doubled", false)] // MATERIALIZED: computed, the value is dropped
    [InlineData("color", false)]
    [InlineData("i", false)]
    [InlineData("n.", false)]
    public void Receives_FollowsClickHouseMatching_WithDefaultSettings(string field, bool expected) =>
        Assert.Equal(expected, TableColumns.Receives(Columns, field, importNestedJson: false));

    [Theory]
    [InlineData("n", true)]
    [InlineData("N", true)]
    [InlineData("raw", false)]
    [InlineData("id", true)]
    [InlineData("payload.k", false)]
    [InlineData("p", false)]
    public void Receives_NestedObject_OnlyWhenImportNestedJsonIsOn(string field, bool expected) =>
        Assert.Equal(expected, TableColumns.Receives(Columns, field, importNestedJson: true));

    [Fact]
    public void Unknown_KeepsTheOrderOfTheFields() =>
        Assert.Equal(["size", "color"], TableColumns.Unknown(Columns, ["id", "size", "payload", "color"], importNestedJson: false));

    [Fact]
    public void Unknown_TableWithoutColumns_FindsEveryField() =>
        Assert.Equal(["a"], TableColumns.Unknown([], ["a"], importNestedJson: false));

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData(" TRUE ", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    public void ImportsNestedJson_ReadsTheInsertSetting(string value, bool expected) =>
        Assert.Equal(expected, UnknownFieldsReporter.ImportsNestedJson(new Dictionary<string, string> { ["input_format_import_nested_json"] = value }));

    [Fact]
    public void ImportsNestedJson_OffByDefault() => Assert.False(UnknownFieldsReporter.ImportsNestedJson(new Dictionary<string, string>()));

    [Fact]
    public void ColumnReader_Parse_ReadsNamesAndDefaultKinds() =>
        Assert.Equal(
            [new TableColumn("id", string.Empty), new TableColumn("a.b", "ALIAS")],
            ColumnReader.Parse("{\"name\":\"id\",\"default_kind\":\"\"}\n{\"name\":\"a.b\",\"default_kind\":\"ALIAS\"}\n"u8));
}
