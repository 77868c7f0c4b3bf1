using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Errors;

namespace MskClickHouse.Core.Tests.Configuration;

public sealed class UnknownFieldsSampleOptionTests
{
    private static Dictionary<string, string?> Env(string? sample) => new()
    {
        ["CLICKHOUSE_URL"] = "https://h:8443",
        ["SINK_ID"] = "s",
        ["UNKNOWN_FIELDS_SAMPLE"] = sample,
    };

    [Theory]
    [InlineData(null, 100)]
    [InlineData("0", 0)]
    [InlineData("1", 1)]
    [InlineData("1000000", 1_000_000)]
    public void Parse_UnknownFieldsSample_DefaultsTo100_AndZeroTurnsItOff(string? value, int expected) =>
        Assert.Equal(expected, SinkOptionsParser.Parse(Env(value)).UnknownFieldsSample);

    [Theory]
    [InlineData("-1")]
    [InlineData("1000001")]
    [InlineData("1/100")]
    [InlineData("often")]
    public void Parse_UnknownFieldsSampleOutOfRange_NamesTheVariableAndTheRange(string value)
    {
        var e = Assert.Throws<ConfigurationException>(() => SinkOptionsParser.Parse(Env(value)));
        Assert.Equal("UNKNOWN_FIELDS_SAMPLE", e.Variable);
        Assert.Contains("from 0 to 1000000", e.Message, StringComparison.Ordinal);
    }
}
