using MskClickHouse.LocalRun;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Function.Tests;

/// <summary>./run.sh's entry point at small size, against the fixture's ClickHouse and the already published AOT bootstrap.</summary>
public sealed class LocalRunTests(PublishedBootstrap published, ClickHouseFixture clickHouse)
{
    [Fact]
    public async Task LocalRun_Generate2000_LandsEveryRecordOnce_AndRedeliveryAddsNothing()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await LocalRunner.RunAsync(
            ["--generate", "2000", "--partitions", "2", "--batch-size", "300", "--clickhouse-url", clickHouse.Server.BaseUri.ToString(), "--bootstrap", published.AotBootstrap],
            output,
            error,
            TestContext.Current.CancellationToken);

        var text = output + "\n" + error;
        Assert.True(code == 0, text);
        Assert.Contains("| records sent | 2,000 in ", text, StringComparison.Ordinal);
        Assert.Contains("| latency per invocation | p50 ", text, StringComparison.Ordinal);
        Assert.Contains("OK    every generated record landed exactly once (rows + dead letters = 2000, produced 2000)", text, StringComparison.Ordinal);
        Assert.Contains("OK    re-delivery added nothing", text, StringComparison.Ordinal);
        Assert.Contains("OK    replay after ALTER TABLE: payments has 6 rows for 6 offsets (6 produced), 2 of 2 dead letters marked replayed", text, StringComparison.Ordinal);
    }

    /// <summary>
    /// The bare ./run.sh: the public sample events, which come from several clusters (different eventSourceArn). The
    /// re-delivery must resend each cluster's records under its own source, as a mapping (one cluster each) would.
    /// </summary>
    [Fact]
    public async Task LocalRun_SampleEventsFromSeveralClusters_RedeliveryAddsNothing()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await LocalRunner.RunAsync(
            ["--clickhouse-url", clickHouse.Server.BaseUri.ToString(), "--bootstrap", published.AotBootstrap],
            output,
            error,
            TestContext.Current.CancellationToken);

        var text = output + "\n" + error;
        Assert.True(code == 0, text);
        Assert.Contains("OK    re-delivery added nothing", text, StringComparison.Ordinal);
    }

    /// <summary>./run.sh --cdc: the generated change history lands as the source's final state, redelivery adds no row.</summary>
    [Fact]
    public async Task LocalRun_Cdc_PrintsTheSourcesFinalStateAndOneRowPerChange()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await LocalRunner.RunAsync(
            ["--cdc", "--partitions", "2", "--batch-size", "7", "--clickhouse-url", clickHouse.Server.BaseUri.ToString(), "--bootstrap", published.AotBootstrap],
            output,
            error,
            TestContext.Current.CancellationToken);

        var text = output + "\n" + error;
        Assert.True(code == 0, text);
        Assert.Contains("FINAL WHERE _is_deleted = 0 ORDER BY id:", text, StringComparison.Ordinal);
        Assert.Contains("OK    customers FINAL WHERE _is_deleted = 0 holds the source's final state", text, StringComparison.Ordinal);
        Assert.Contains("OK    count() without FINAL (merges stopped)", text, StringComparison.Ordinal);
        Assert.Contains("NOTE  notes: the truncate (op t) was skipped and deleted nothing: 10 live rows, the source has 5", text, StringComparison.Ordinal);
        Assert.Contains("op 't' skipped", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("avro")]
    [InlineData("protobuf")]
    public async Task LocalRun_GenerateFramedValues_DecodedWithTheBuiltInRegistry_LandEveryRecordOnce(string format)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await LocalRunner.RunAsync(
            ["--generate", "600", "--partitions", "2", "--value-format", format, "--clickhouse-url", clickHouse.Server.BaseUri.ToString(), "--bootstrap", published.AotBootstrap],
            output,
            error,
            TestContext.Current.CancellationToken);

        var text = output + "\n" + error;
        Assert.True(code == 0, text);
        Assert.Contains("OK    every generated record landed exactly once (rows + dead letters = 600, produced 600)", text, StringComparison.Ordinal);
        Assert.Contains("value does not start with a schema-registry framing byte", text, StringComparison.Ordinal); // the deliberately bad ones
    }

    [Fact]
    public async Task LocalRun_Chaos_RebatchingRedeliveryAndClickHouseFaults_LandEveryRecordOnce()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await LocalRunner.RunAsync(
            ["--generate", "1500", "--partitions", "2", "--chaos", "3", "--clickhouse-url", clickHouse.Server.BaseUri.ToString(), "--bootstrap", published.AotBootstrap],
            output,
            error,
            TestContext.Current.CancellationToken);

        var text = output + "\n" + error;
        Assert.True(code == 0, text);
        Assert.Contains("ClickHouse faults injected: ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("ClickHouse faults injected: 0 refused, 0 answers lost", text, StringComparison.Ordinal);
        Assert.Contains("OK    every generated record landed exactly once (rows + dead letters = 1500, produced 1500)", text, StringComparison.Ordinal);
    }

    /// <summary>./run.sh --routing: one topic by field with an all-events table, another by header and key prefix.</summary>
    [Fact]
    public async Task LocalRun_Routing_LandsEachRecordOnceInEveryTableItMatches()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        var code = await LocalRunner.RunAsync(
            ["--generate", "200", "--partitions", "1", "--routing", "--clickhouse-url", clickHouse.Server.BaseUri.ToString(), "--bootstrap", published.AotBootstrap],
            output,
            error,
            TestContext.Current.CancellationToken);

        var text = output + "\n" + error;
        Assert.True(code == 0, text);
        Assert.Contains("  events_click: 40 rows, 40 distinct offsets (expected 40)", text, StringComparison.Ordinal);
        Assert.Contains("  all_events: 100 rows, 100 distinct offsets (expected 100)", text, StringComparison.Ordinal);
        Assert.Contains("  unrouted: 13 dead letters (expected 13), e.g. unrouted: no rule of topic 'audit' matches this record", text, StringComparison.Ordinal);
        Assert.Contains("OK    routing: each record landed exactly once in every table it matches", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LocalRun_MissingOrMalformedEventFile_ExitsTwoNamingIt()
    {
        var bad = Path.Combine(Path.GetTempPath(), $"bad-event-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(bad, "{\"records\":", TestContext.Current.CancellationToken);
        try
        {
            foreach (var file in new[] { "/nonexistent/event.json", bad })
            {
                using var output = new StringWriter();
                using var error = new StringWriter();
                var code = await LocalRunner.RunAsync(["--events", file, "--bootstrap", published.AotBootstrap], output, error, TestContext.Current.CancellationToken);
                Assert.Equal(2, code);
                Assert.Contains(file, error.ToString(), StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(bad);
        }
    }

    [Fact]
    public async Task LocalRun_UnreachableClickHouse_ExitsTwoNamingTheUrl()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await LocalRunner.RunAsync(["--generate", "10", "--clickhouse-url", "http://127.0.0.1:1", "--bootstrap", published.AotBootstrap], output, error, TestContext.Current.CancellationToken);
        Assert.Equal(2, code);
        Assert.Contains("http://127.0.0.1:1", error.ToString(), StringComparison.Ordinal);
    }
}
