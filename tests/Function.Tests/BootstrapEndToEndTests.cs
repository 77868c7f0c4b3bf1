using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Function.Tests;

/// <summary>The published bootstrap, run as Lambda runs it, against the Runtime API emulator.</summary>
public sealed class BootstrapEndToEndTests(PublishedBootstrap published)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    internal static readonly byte[] MskEvent = Encoding.UTF8.GetBytes("""
        {"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:eu-west-1:123456789012:cluster/demo/abc","bootstrapServers":"b-1:9098",
         "records":{"orders-0":[{"topic":"orders","partition":0,"offset":15,"timestamp":1764082800000,"timestampType":"CREATE_TIME",
         "key":"b3JkZXItMQ==","value":"eyJpZCI6MSwiYW1vdW50Ijo5Ljk5fQ==","headers":[]}]}}
        """);

    internal static Dictionary<string, string?> RequiredEnvironment() => new()
    {
        ["CLICKHOUSE_URL"] = "http://127.0.0.1:1",
        ["POWERTOOLS_SERVICE_NAME"] = "e2e-sink",
    };

    [Theory]
    [InlineData("aot")]
    [InlineData("jit")]
    public async Task Bootstrap_AnswersAnEvent_LogsPowertoolsJson_AndStopsOnSigterm(string flavour)
    {
        await using var emulator = Emulator.Start();
        using var process = BootstrapProcess.Start(Path(flavour), emulator.Endpoint, RequiredEnvironment());
        var ct = TestContext.Current.CancellationToken;

        var result = await emulator.EnqueueAsync(MskEvent, Timeout, cancellationToken: ct);

        Assert.True(result.Success, $"{result.ErrorType}: {result.BodyText}\n{Output(process)}");
        using (var response = JsonDocument.Parse(result.Body))
        {
            Assert.Equal(0, response.RootElement.GetProperty("batchItemFailures").GetArrayLength());
        }

        var logLine = await process.WaitForOutputLineAsync(l => l.Contains(result.RequestId, StringComparison.Ordinal) && l.Contains("\"level\"", StringComparison.Ordinal), Timeout);
        using (var log = JsonDocument.Parse(logLine))
        {
            var root = log.RootElement;
            Assert.Equal("Information", root.GetProperty("level").GetString());
            Assert.Equal("e2e-sink", root.GetProperty("service").GetString());
            Assert.True(root.GetProperty("cold_start").GetBoolean());
            Assert.Equal("msk-clickhouse-sink", root.GetProperty("function_name").GetString());
            Assert.Equal(512, root.GetProperty("function_memory_size").GetInt32());
            Assert.Equal(emulator.Options.FunctionArn, root.GetProperty("function_arn").GetString());
            Assert.StartsWith("1-", root.GetProperty("xray_trace_id").GetString(), StringComparison.Ordinal);
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", root.GetProperty("timestamp").GetString()!);
            Assert.False(string.IsNullOrEmpty(root.GetProperty("message").GetString()));
        }

        var emf = await process.WaitForOutputLineAsync(l => l.StartsWith("{\"_aws\"", StringComparison.Ordinal), Timeout);
        using (var metrics = JsonDocument.Parse(emf))
        {
            Assert.Equal(MskEvent.Length, metrics.RootElement.GetProperty("BatchBytes").GetInt32());
            Assert.Equal(result.RequestId, metrics.RootElement.GetProperty("function_request_id").GetString());
        }

        Assert.All(process.StandardOutputLines, l => JsonDocument.Parse(l).Dispose());

        var second = await emulator.EnqueueAsync(MskEvent, Timeout, cancellationToken: ct);
        Assert.True(second.Success);

        process.Terminate();
        Assert.Equal(0, await process.WaitForExitAsync(Timeout));
    }

    [Theory]
    [InlineData("aot")]
    [InlineData("jit")]
    public async Task Bootstrap_MissingClickHouseUrl_ReportsAnInitErrorNamingIt_AndExitsNonZero(string flavour)
    {
        await using var emulator = Emulator.Start();
        var env = RequiredEnvironment();
        env["CLICKHOUSE_URL"] = null;
        using var process = BootstrapProcess.Start(Path(flavour), emulator.Endpoint, env);

        var report = await emulator.InitError.WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Equal("ConfigurationException", report.ErrorType);
        Assert.Contains("CLICKHOUSE_URL", report.ErrorMessage, StringComparison.Ordinal);
        Assert.NotEqual(0, await process.WaitForExitAsync(Timeout));
        Assert.Contains(process.StandardOutputLines, l => l.Contains("\"Critical\"", StringComparison.Ordinal) && l.Contains("CLICKHOUSE_URL", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bootstrap_SecretArnWithoutCredentials_ReportsAnInitErrorNamingTheSecretVariable()
    {
        await using var emulator = Emulator.Start();
        var env = RequiredEnvironment();
        env["CLICKHOUSE_PASSWORD_SECRET_ARN"] = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ch-AbCdEf";
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        var report = await emulator.InitError.WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Contains("CLICKHOUSE_PASSWORD_SECRET_ARN", report.ErrorMessage, StringComparison.Ordinal);
        Assert.NotEqual(0, await process.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Bootstrap_WithoutRuntimeApiVariable_SaysSoAndExitsNonZero()
    {
        await using var emulator = Emulator.Start();
        var env = RequiredEnvironment();
        env["AWS_LAMBDA_RUNTIME_API"] = null;
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        Assert.Equal(2, await process.WaitForExitAsync(Timeout));
        Assert.Contains(process.StandardOutputLines, l => l.Contains("AWS_LAMBDA_RUNTIME_API", StringComparison.Ordinal));
    }

    private string Path(string flavour) => flavour == "aot" ? published.AotBootstrap : published.JitBootstrap;

    private static string Output(BootstrapProcess process) =>
        string.Join('\n', process.StandardOutputLines) + "\n" + string.Join('\n', process.StandardErrorLines);
}
