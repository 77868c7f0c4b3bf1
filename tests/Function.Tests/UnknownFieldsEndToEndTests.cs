using System.Text;
using System.Text.Json;
using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.TestSupport;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Function.Tests;

/// <summary>
/// UNKNOWN_FIELDS_SAMPLE end to end: the published AOT bootstrap, the Runtime API emulator and the embedded ClickHouse.
/// A producer starts sending a field the table has no column for; the sampled record names it in an EMF
/// <c>UnknownFields</c> line (dimension table) and in one warning, and every row still lands.
/// </summary>
public sealed class UnknownFieldsEndToEndTests(PublishedBootstrap published, ClickHouseFixture clickHouse)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static string Record(long offset, string value) =>
        $$"""{"topic":"orders","partition":4,"offset":{{offset}},"timestamp":1764082800000,"timestampType":"CREATE_TIME","key":null,"value":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(value))}}","headers":[]}""";

    /// <summary>Offsets from..to of orders-4; from offset 205 on the producer adds "coupon".</summary>
    private static byte[] Batch(long from, long to) => Encoding.UTF8.GetBytes(
        """{"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:eu-west-1:123456789012:cluster/demo/abc","records":{"orders-4":["""
        + string.Join(',', Enumerable.Range((int)from, (int)(to - from + 1)).Select(o => Record(o, o < 205 ? $$"""{"id":{{o}},"amount":1.5}""" : $$"""{"id":{{o}},"amount":1.5,"coupon":"XMAS"}""")))
        + "]}}");

    [Fact]
    public async Task Bootstrap_NewFieldInTheRecords_IsNamedByUnknownFields_InEmfAndOneLogLine_AndTheRowsStillLand()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await clickHouse.CreateDatabaseAsync("e2e_drift", ct);
        await clickHouse.Server.QueryAsync(SinkEnvironment.MetadataTable(db, "orders", BootstrapEndToEndTests.OrdersColumns), ct);
        var env = SinkEnvironment.For(clickHouse, db);
        env["UNKNOWN_FIELDS_SAMPLE"] = "10";
        await using var emulator = Emulator.Start();
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        // 180-199: sampled 180 and 190, nothing unknown. 200-229: sampled 200, 210, 220; "coupon" from 205 on.
        var clean = await emulator.EnqueueAsync(Batch(180, 199), Timeout, cancellationToken: ct);
        var drifted = await emulator.EnqueueAsync(Batch(200, 229), Timeout, cancellationToken: ct);
        var again = await emulator.EnqueueAsync(Batch(230, 239), Timeout, cancellationToken: ct);

        foreach (var r in new[] { clean, drifted, again })
        {
            Assert.True(r.Success, $"{r.ErrorType}: {r.BodyText}\n{Output(process)}");
            Assert.Equal("""{"batchItemFailures":[]}""", r.BodyText);
        }

        Assert.Equal("60\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.orders", ct));

        var warning = await process.WaitForOutputLineAsync(l => l.Contains("\"UnknownFields\"", StringComparison.Ordinal) && l.Contains("\"level\"", StringComparison.Ordinal), Timeout);
        using (var log = JsonDocument.Parse(warning))
        {
            var root = log.RootElement;
            Assert.Equal("Warning", root.GetProperty("level").GetString());
            Assert.Equal("orders", root.GetProperty("topic").GetString());
            Assert.Equal(4, root.GetProperty("partition").GetInt32());
            Assert.Equal(210, root.GetProperty("offset").GetInt64());
            Assert.Equal($"{db}.orders", root.GetProperty("table").GetString());
            Assert.Equal("coupon", root.GetProperty("fields").GetString());
            Assert.Contains("has no column for coupon", root.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // One EMF line per invocation whose sample held the field (the second and the third), none for the first.
        var emf = await WaitForLinesAsync(process, l => l.StartsWith("{\"_aws\"", StringComparison.Ordinal) && l.Contains("\"table\"", StringComparison.Ordinal), 2);
        foreach (var line in emf)
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            var directive = root.GetProperty("_aws").GetProperty("CloudWatchMetrics")[0];
            Assert.Equal("UnknownFields", directive.GetProperty("Metrics")[0].GetProperty("Name").GetString());
            Assert.Equal(["service", "table"], directive.GetProperty("Dimensions")[0].EnumerateArray().Select(d => d.GetString()!));
            Assert.Equal($"{db}.orders", root.GetProperty("table").GetString());
            Assert.Equal(1, root.GetProperty("UnknownFields").GetInt64());
        }

        var requestIds = new[] { drifted.RequestId, again.RequestId };
        Assert.Equal(requestIds, emf.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("function_request_id").GetString()));
        Assert.Single(process.StandardOutputLines, l => l.Contains("has no column for", StringComparison.Ordinal));

        process.Terminate();
        Assert.Equal(0, await process.WaitForExitAsync(Timeout));
    }

    private static async Task<List<string>> WaitForLinesAsync(BootstrapProcess process, Func<string, bool> match, int count)
    {
        var until = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < until)
        {
            var lines = process.StandardOutputLines.Where(match).ToList();
            if (lines.Count >= count)
            {
                return lines;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException($"fewer than {count} matching lines:\n{Output(process)}");
    }

    private static string Output(BootstrapProcess process) =>
        string.Join('\n', process.StandardOutputLines) + "\n" + string.Join('\n', process.StandardErrorLines);
}
