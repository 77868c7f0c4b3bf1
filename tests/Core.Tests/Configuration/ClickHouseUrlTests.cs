using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Errors;





namespace MskClickHouse.Core.Tests.Configuration;

/// <summary>CLICKHOUSE_URL validation: credentials refused without echoing them, http:// only on request, redacted printing.</summary>
public sealed class ClickHouseUrlTests
{
    private const string Marker = "Mk7-secret-pw-Zq9";

    private static Dictionary<string, string?> Env(string url, string? allowHttp = null) => new()
    {
        ["CLICKHOUSE_URL"] = url,
        ["CLICKHOUSE_ALLOW_HTTP"] = allowHttp,
        ["CLICKHOUSE_PASSWORD"] = Marker,
        ["SINK_ID"] = "s",
    };

    [Theory]
    [InlineData("https://default:" + Marker + "@ch.example.com:8443")]
    [InlineData("clickhouse://default:" + Marker + "@host:1")]
    [InlineData("https://ch.example.com:8443/?password=" + Marker)]
    [InlineData("https://ch.example.com:8443/?user=default&password=" + Marker)]
    [InlineData("https://ch.example.com:8443/?database=x#" + Marker)]
    [InlineData("https://[" + Marker)]
    [InlineData("not a url " + Marker)]
    [InlineData("http://default:" + Marker + "@127.0.0.1:8123")]
    public void Parse_UrlWithCredentialsOrInvalid_IsRefusedWithoutEchoingThem(string url)
    {
        var e = Assert.Throws<ConfigurationException>(() => SinkOptionsParser.Parse(Env(url, "true")));

        Assert.Equal("CLICKHOUSE_URL", e.Variable);
        Assert.DoesNotContain(Marker, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Marker, e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PasswordParameter_SaysWhereThePasswordBelongs()
    {
        var e = Assert.Throws<ConfigurationException>(() => SinkOptionsParser.Parse(Env("https://ch.example.com:8443/?password=" + Marker)));

        Assert.Contains("CLICKHOUSE_PASSWORD_SECRET_ARN", e.Message, StringComparison.Ordinal);
        Assert.Contains("https://ch.example.com:8443/", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("false")]
    public void Parse_PlainHttpWithoutOptIn_IsRefused(string? allowHttp)
    {
        var e = Assert.Throws<ConfigurationException>(() => SinkOptionsParser.Parse(Env("http://10.0.0.5:8123", allowHttp)));

        Assert.Contains("CLICKHOUSE_ALLOW_HTTP=true", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PlainHttpWithOptIn_IsAccepted() =>
        Assert.Equal("http", SinkOptionsParser.Parse(Env("http://10.0.0.5:8123", "true")).ClickHouseUrl.Scheme);

    [Fact]
    public void Parse_AllowHttpNotABoolean_NamesTheVariable() =>
        Assert.Equal("CLICKHOUSE_ALLOW_HTTP", Assert.Throws<ConfigurationException>(() => SinkOptionsParser.Parse(Env("https://h:8443", "maybe"))).Variable);

    [Fact]
    public void ToString_OfOptionsAndCopies_NeverShowsThePassword()
    {
        var options = SinkOptionsParser.Parse(Env("https://ch.example.com:8443/base"));
        var copy = options with { Password = Marker + "2" };

        Assert.DoesNotContain(Marker, options.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Marker, copy.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Marker, $"{new { options }}", StringComparison.Ordinal);
        Assert.Contains("https://ch.example.com:8443/base", options.ToString(), StringComparison.Ordinal);
    }
}
