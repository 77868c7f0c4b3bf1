using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Errors;

namespace MskClickHouse.Core.Tests.Configuration;

public sealed class SchemaEvolutionOptionTests
{
    private static Dictionary<string, string?> Env(string name, string? value) => new()
    {
        ["CLICKHOUSE_URL"] = "https://h:8443",
        ["SINK_ID"] = "s",
        [name] = value,
    };

    [Theory]
    [InlineData(null, SchemaEvolutionMode.Off)]
    [InlineData("off", SchemaEvolutionMode.Off)]
    [InlineData("add-columns", SchemaEvolutionMode.AddColumns)]
    [InlineData("ADD-COLUMNS", SchemaEvolutionMode.AddColumns)]
    public void Parse_SchemaEvolution_DefaultsToOff(string? value, SchemaEvolutionMode expected) =>
        Assert.Equal(expected, SinkOptionsParser.Parse(Env("SCHEMA_EVOLUTION", value)).SchemaEvolution);

    [Theory]
    [InlineData("on")]
    [InlineData("add_columns")]
    [InlineData("true")]
    public void Parse_SchemaEvolutionUnknownValue_NamesTheVariableAndTheChoices(string value)
    {
        var e = Assert.Throws<ConfigurationException>(() => SinkOptionsParser.Parse(Env("SCHEMA_EVOLUTION", value)));
        Assert.Equal("SCHEMA_EVOLUTION", e.Variable);
        Assert.Contains("expected off or add-columns", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("false", false)]
    [InlineData("true", true)]
    public void Parse_AutoCreateTables_DefaultsToFalse(string? value, bool expected) =>
        Assert.Equal(expected, SinkOptionsParser.Parse(Env("AUTO_CREATE_TABLES", value)).AutoCreateTables);

    [Fact]
    public void Parse_AutoCreateTablesNotABoolean_NamesTheVariable() =>
        Assert.Equal("AUTO_CREATE_TABLES", Assert.Throws<ConfigurationException>(() => SinkOptionsParser.Parse(Env("AUTO_CREATE_TABLES", "yes please"))).Variable);

    [Fact]
    public void TheTablesDefaults_AreTheParsedDefaults()
    {
        var parsed = SinkOptionsParser.Parse(Env("X", null));

        Assert.Equal(SinkOptionTable.Default("SCHEMA_EVOLUTION"), parsed.SchemaEvolution == SchemaEvolutionMode.Off ? "off" : "add-columns");
        Assert.Equal(SinkOptionTable.Default("AUTO_CREATE_TABLES"), parsed.AutoCreateTables ? "true" : "false");
    }
}
