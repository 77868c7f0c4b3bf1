using System.Text;
using System.Text.Json;
using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.TestSupport;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Function.Tests;

/// <summary>
/// SINK_MODE=replay with the published bootstrap (#17): dead letters made by a type error, the type fixed with
/// ALTER TABLE, then the replay function invoked twice at once (two sandboxes) and once more as a retry.
/// </summary>
public sealed class ReplayEndToEndTests(PublishedBootstrap published, ClickHouseFixture clickHouse)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static string Record(string topic, long offset, string id) =>
        $$"""{"topic":"{{topic}}","partition":0,"offset":{{offset}},"timestamp":1764082800000,"timestampType":"CREATE_TIME","key":null,"value":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes($$"""{"id":{{id}},"amount":1.25}"""))}}","headers":[]}""";

    /// <summary>Offsets 0-5 of each topic; 1 and 4 carry an id ClickHouse cannot parse as UInt32.</summary>
    private static byte[] Event(params string[] topics) => Encoding.UTF8.GetBytes(
        """{"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:eu-west-1:123456789012:cluster/demo/abc","records":{"""
        + string.Join(",", topics.Select(t => $"\"{t}-0\":[" + string.Join(",", Enumerable.Range(0, 6).Select(i => Record(t, i, i is 1 or 4 ? $"\"A-{i}\"" : i.ToString(System.Globalization.CultureInfo.InvariantCulture)))) + "]"))
        + "}}");

    [Fact]
    public async Task Replay_AfterAlterTable_TwiceConcurrentlyThenRetried_LandsEachDeadLetterOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await clickHouse.CreateDatabaseAsync("e2e_replay", ct);
        await clickHouse.Server.QueryAsync(SinkEnvironment.MetadataTable(db, "orders", "id UInt32, amount Float64"), ct);

        // A table without offset columns: only the replay tokens keep its rows single.
        await clickHouse.Server.QueryAsync($"CREATE TABLE {db}.clicks (id UInt32, amount Float64) ENGINE = MergeTree ORDER BY tuple() SETTINGS non_replicated_deduplication_window = 1000", ct);
        var env = SinkEnvironment.For(clickHouse, db);
        env["TOPIC_TABLES"] = "orders=orders,clicks=clicks";

        await using (var sinkApi = Emulator.Start())
        {
            using var sink = BootstrapProcess.Start(published.AotBootstrap, sinkApi.Endpoint, env);
            var delivered = await sinkApi.EnqueueAsync(Event("orders", "clicks"), Timeout, cancellationToken: ct);
            Assert.True(delivered.Success, delivered.BodyText + Output(sink));
            Assert.Equal("""{"batchItemFailures":[]}""", delivered.BodyText);
            sink.Terminate();
        }

        Assert.Equal("4\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.kafka_dead_letters", ct));
        await clickHouse.Server.QueryAsync($"ALTER TABLE {db}.orders MODIFY COLUMN id String", ct);
        await clickHouse.Server.QueryAsync($"ALTER TABLE {db}.clicks MODIFY COLUMN id String", ct);

        env["SINK_MODE"] = "replay";
        await using var apiA = Emulator.Start();
        await using var apiB = Emulator.Start();
        using var replayA = BootstrapProcess.Start(published.AotBootstrap, apiA.Endpoint, env);
        using var replayB = BootstrapProcess.Start(published.AotBootstrap, apiB.Endpoint, env);
        foreach (var table in new[] { "orders", "clicks" })
        {
            var payload = Encoding.UTF8.GetBytes($$"""{"table":"{{db}}.{{table}}"}""");
            var both = await Task.WhenAll(apiA.EnqueueAsync(payload, Timeout, cancellationToken: ct), apiB.EnqueueAsync(payload, Timeout, cancellationToken: ct));

            foreach (var r in both)
            {
                Assert.True(r.Success, r.BodyText + Output(replayA) + Output(replayB));
                using var summary = JsonDocument.Parse(r.Body);
                Assert.Equal(0, summary.RootElement.GetProperty("stillFailing").GetInt32());
            }

            Assert.Equal("0\t1\t2\t3\t4\t5\n", Row(await clickHouse.Server.QueryAsync($"SELECT id FROM {db}.{table} ORDER BY toUInt32OrZero(replaceAll(id, 'A-', '')) FORMAT TSV", ct)).Replace("A-", string.Empty, StringComparison.Ordinal));
            Assert.Equal("6\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.{table}", ct));

            // A retried replay: nothing pending, nothing more lands.
            var retried = await apiA.EnqueueAsync(payload, Timeout, cancellationToken: ct);
            Assert.True(retried.Success, retried.BodyText);
            using (var summary = JsonDocument.Parse(retried.Body))
            {
                Assert.Equal(0, summary.RootElement.GetProperty("selected").GetInt32());
                Assert.Equal(2, summary.RootElement.GetProperty("alreadyReplayed").GetInt32());
            }

            Assert.Equal("6\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.{table}", ct));
        }

        // Marked, never deleted: the 4 dead letters are still there, each with its outcome.
        Assert.Equal("4\t4\n", await clickHouse.Server.QueryAsync($"SELECT countIf(replayed_at IS NULL), uniqExactIf((target_table, offset), replayed_at IS NOT NULL AND replay_error = '') FROM {db}.kafka_dead_letters FORMAT TSV", ct));

        // A bad payload is an invocation error naming the field.
        var bad = await apiB.EnqueueAsync("""{"limit":5}"""u8.ToArray(), Timeout, cancellationToken: ct);
        Assert.False(bad.Success);
        Assert.Equal("ReplayRequestException", bad.ErrorType);
        Assert.Contains("'table'", bad.ErrorMessage, StringComparison.Ordinal);

        Assert.All(replayA.StandardOutputLines.Concat(replayB.StandardOutputLines), l => JsonDocument.Parse(l).Dispose());
        replayA.Terminate();
        replayB.Terminate();
        Assert.Equal(0, await replayA.WaitForExitAsync(Timeout));
    }

    private static string Row(string tsv) => tsv.TrimEnd('\n').Replace('\n', '\t') + "\n";

    private static string Output(BootstrapProcess process) =>
        "\n" + string.Join('\n', process.StandardOutputLines) + "\n" + string.Join('\n', process.StandardErrorLines);
}
