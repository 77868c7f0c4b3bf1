using System.Text;
using System.Text.Json;
using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.TestSupport;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Function.Tests;

/// <summary>
/// POLLER_MODE end to end, with the published bootstrap against the Runtime API emulator and the embedded ClickHouse:
/// a partition without a target table is not delivered. PROVISIONED answers it as a batchItemFailure; ON_DEMAND (where
/// Lambda would ignore that answer and commit) fails the invocation, naming the partition, and the retried batch
/// lands once the table exists, without duplicating the partition that was delivered the first time.
/// </summary>
public sealed class PollerModeEndToEndTests(PublishedBootstrap published, ClickHouseFixture clickHouse)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private static string Record(string topic, int partition, long offset, string value) =>
        $$"""{"topic":"{{topic}}","partition":{{partition}},"offset":{{offset}},"timestamp":1764082800000,"timestampType":"CREATE_TIME","key":null,"value":"{{B64(value)}}","headers":[]}""";

    /// <summary>orders-0 (offsets 100-101, table exists) and late-2 (offsets 7-8, table created only later).</summary>
    private static readonly byte[] Batch = Encoding.UTF8.GetBytes(
        """{"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:eu-west-1:123456789012:cluster/demo/abc","bootstrapServers":"b-1:9098","records":{"orders-0":["""
        + Record("orders", 0, 100, """{"id":1,"amount":9.99}""") + ","
        + Record("orders", 0, 101, """{"id":2,"amount":0.5}""")
        + "],\"late-2\":["
        + Record("late", 2, 7, """{"id":3,"amount":1}""") + ","
        + Record("late", 2, 8, """{"id":4,"amount":2}""")
        + "]}}");

    [Fact]
    public async Task OnDemand_UndeliveredPartition_FailsTheInvocationNamingIt_AndTheRetriedBatchLandsOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await clickHouse.CreateDatabaseAsync("ondemand", ct);
        await clickHouse.Server.QueryAsync(SinkEnvironment.MetadataTable(db, "orders", BootstrapEndToEndTests.OrdersColumns), ct);
        var env = SinkEnvironment.For(clickHouse, db);
        env["POLLER_MODE"] = "ON_DEMAND";
        await using var emulator = Emulator.Start();
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        var failed = await emulator.EnqueueAsync(Batch, Timeout, cancellationToken: ct);

        Assert.False(failed.Success, $"expected a function error, got {failed.BodyText}");
        Assert.Equal("UndeliveredPartitionsException", failed.ErrorType);
        Assert.Contains("topic late partition 2 from offset 7 (to 8)", failed.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("POLLER_MODE=ON_DEMAND", failed.ErrorMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("orders", failed.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal("2\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.orders", ct));

        // Lambda retries the whole batch; by then the table exists.
        await clickHouse.Server.QueryAsync(SinkEnvironment.MetadataTable(db, "late", BootstrapEndToEndTests.OrdersColumns), ct);
        var retried = await emulator.EnqueueAsync(Batch, Timeout, cancellationToken: ct);

        Assert.True(retried.Success, $"{retried.ErrorType}: {retried.BodyText}");
        Assert.Equal("""{"batchItemFailures":[]}""", retried.BodyText);
        Assert.Equal("100\n101\n", await clickHouse.Server.QueryAsync($"SELECT _offset FROM {db}.orders ORDER BY _offset FORMAT TSV", ct));
        Assert.Equal("7\n8\n", await clickHouse.Server.QueryAsync($"SELECT _offset FROM {db}.late ORDER BY _offset FORMAT TSV", ct));
    }

    [Theory]
    [InlineData("PROVISIONED")]
    [InlineData(null)] // the default
    public async Task Provisioned_UndeliveredPartition_IsAnsweredAsABatchItemFailure(string? mode)
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await clickHouse.CreateDatabaseAsync("provisioned", ct);
        await clickHouse.Server.QueryAsync(SinkEnvironment.MetadataTable(db, "orders", BootstrapEndToEndTests.OrdersColumns), ct);
        var env = SinkEnvironment.For(clickHouse, db);
        env["POLLER_MODE"] = mode;
        await using var emulator = Emulator.Start();
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        var result = await emulator.EnqueueAsync(Batch, Timeout, cancellationToken: ct);

        Assert.True(result.Success, $"{result.ErrorType}: {result.BodyText}");
        using var response = JsonDocument.Parse(result.Body);
        var failure = Assert.Single(response.RootElement.GetProperty("batchItemFailures").EnumerateArray()).GetProperty("itemIdentifier");
        Assert.Equal("late-2", failure.GetProperty("topic-partition").GetString());
        Assert.Equal(7, failure.GetProperty("offset").GetInt64());
        Assert.Equal("2\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.orders", ct));
    }

    [Fact]
    public async Task UnknownPollerMode_ReportsAnInitErrorNamingPollerMode()
    {
        await using var emulator = Emulator.Start();
        var env = SinkEnvironment.For(clickHouse, "default");
        env["POLLER_MODE"] = "on-demand-please";
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        var report = await emulator.InitError.WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Equal("ConfigurationException", report.ErrorType);
        Assert.Contains("POLLER_MODE", report.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("on-demand-please", report.ErrorMessage, StringComparison.Ordinal);
        Assert.NotEqual(0, await process.WaitForExitAsync(Timeout));
    }
}
