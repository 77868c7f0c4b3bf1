using System.Globalization;
using System.Text;
using MskClickHouse.DevHarness;
using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.TestSupport;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Function.Tests;

/// <summary>
/// A marker password, in every place a user may put it, through the published bootstrap: it appears in no log line
/// (stdout, stderr) and in no error body the Runtime API receives.
/// </summary>
public sealed class SecretHygieneTests(PublishedBootstrap published, ClickHouseFixture clickHouse)
{
    private const string Marker = "Mk7-marker-pw-Zq9";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static TheoryData<string> Configurations() => new("env_wrong_password", "url_user_info", "url_password_parameter", "url_user_info_http_not_allowed", "invalid_url", "clickhouse_scheme_url");

    [Theory]
    [MemberData(nameof(Configurations))]
    public async Task Bootstrap_MarkerPasswordInConfiguration_AppearsInNoLogLineOrErrorBody(string configuration)
    {
        var ct = TestContext.Current.CancellationToken;
        var env = SinkEnvironment.For(clickHouse, "default");
        var port = clickHouse.Server.BaseUri.Port.ToString(CultureInfo.InvariantCulture);
        switch (configuration)
        {
            case "env_wrong_password":
                env["CLICKHOUSE_PASSWORD"] = Marker;
                break;
            case "url_user_info":
                env["CLICKHOUSE_URL"] = $"http://default:{Marker}@127.0.0.1:{port}";
                break;
            case "url_password_parameter":
                env["CLICKHOUSE_URL"] = $"http://127.0.0.1:{port}/?password={Marker}";
                break;
            case "url_user_info_http_not_allowed":
                env["CLICKHOUSE_ALLOW_HTTP"] = null;
                env["CLICKHOUSE_URL"] = $"http://default:{Marker}@127.0.0.1:{port}/?password={Marker}";
                break;
            case "invalid_url":
                env["CLICKHOUSE_URL"] = $"https//default:{Marker}@host";
                break;
            default:
                env["CLICKHOUSE_URL"] = $"clickhouse://default:{Marker}@127.0.0.1:{port}";
                break;
        }

        await using var emulator = Emulator.Start();
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        var report = await emulator.InitError.WaitAsync(Timeout, ct);
        Assert.NotEqual(0, await process.WaitForExitAsync(Timeout));

        Assert.DoesNotContain(Marker, report.BodyText, StringComparison.Ordinal);
        AssertNoMarker(process);
        Assert.Contains(configuration == "env_wrong_password" ? "516" : "CLICKHOUSE_URL", report.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bootstrap_MarkerPasswordThatWorks_AppearsInNoLogLineWhileDelivering()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await MskClickHouse.DevHarness.EmbeddedClickHouse.StartAsync(new EmbeddedClickHouseOptions { Password = Marker }, ct);
        await server.QueryAsync("CREATE TABLE default.orders (id UInt32, amount Float64, _topic String, _partition Int32, _offset Int64) ENGINE = MergeTree ORDER BY _offset SETTINGS non_replicated_deduplication_window = 1000", ct);
        var env = SinkEnvironment.For(clickHouse, "default");
        env["CLICKHOUSE_URL"] = server.BaseUri.ToString().TrimEnd('/');
        env["CLICKHOUSE_PASSWORD"] = Marker;
        env["POWERTOOLS_LOG_LEVEL"] = "DEBUG";
        await using var emulator = Emulator.Start();
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        var result = await emulator.EnqueueAsync(BootstrapEndToEndTests.MskEvent, Timeout, cancellationToken: ct);

        Assert.True(result.Success, result.BodyText + "\n" + string.Join('\n', process.StandardOutputLines));
        Assert.Equal("1\n", await server.QueryAsync("SELECT count() FROM default.orders", ct));
        Assert.DoesNotContain(Marker, Encoding.UTF8.GetString(result.Body), StringComparison.Ordinal);
        AssertNoMarker(process);
        Assert.Contains(process.StandardOutputLines, l => l.Contains("Init done", StringComparison.Ordinal));
    }

    private static void AssertNoMarker(BootstrapProcess process)
    {
        Assert.DoesNotContain(process.StandardOutputLines, l => l.Contains(Marker, StringComparison.Ordinal));
        Assert.DoesNotContain(process.StandardErrorLines, l => l.Contains(Marker, StringComparison.Ordinal));
    }
}
