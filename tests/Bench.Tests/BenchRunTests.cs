using System.Text.Json;
using MskClickHouse.Bench.EndToEnd;
using MskClickHouse.Bench.EndToEnd.Sections;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Bench.Tests;

/// <summary>./bench.sh's entry point at a tiny size against the fixture's engine and bootstraps: every section, valid JSON. No timing is asserted.</summary>
public sealed class BenchRunTests(BenchBootstraps published, ClickHouseFixture clickHouse)
{
    [Fact]
    public async Task Bench_TinySize_PrintsEverySectionAndWritesValidJson()
    {
        var (code, text, doc) = await RunAsync(
            "--repetitions", "1", "--records", "60", "--cold-starts", "1", "--decode-scale", "0.001", "--decode-iterations", "1",
            "--compressions", "none,gzip,zstd", "--scale-processes", "1,2", "--scale-partitions", "2,3", "--scale-seconds", "1", "--scale-records", "20");
        using (doc)
        {
            Assert.True(code == 0, text);
            foreach (var section in BenchRunner.Sections)
            {
                Assert.Contains(section, text, StringComparison.Ordinal);
            }

            Assert.Contains("OK    every row landed exactly once", text, StringComparison.Ordinal);
            Assert.Contains("OK    scale (sink): every record landed exactly once", text, StringComparison.Ordinal);
            foreach (var key in new[] { "machine", "decode", "end_to_end", "cold_start", "memory", "compression", "cost", "breakdown", "scale", "routing_end_to_end" })
            {
                Assert.True(doc.RootElement.TryGetProperty(key, out _), $"results.json has no '{key}':\n{doc.RootElement}");
            }

            Assert.Equal(3, doc.RootElement.GetProperty("compression").GetArrayLength());
            Assert.Equal(60, doc.RootElement.GetProperty("end_to_end").GetProperty("records_per_batch").GetInt32());
        }
    }

    [Fact]
    public async Task EndToEnd_TinySize_ReportsTheProtocolFloorBesideTheSinkForBothBatchSizes()
    {
        var (code, text, doc) = await RunAsync("--sections", "e2e", "--repetitions", "2", "--records", "40");
        using (doc)
        {
            Assert.True(code == 0, text);
            Assert.Contains("| **sink / floor** (per-repetition ratio) |", text, StringComparison.Ordinal);
            Assert.Contains("| **sink / floor, 20-record batches** |", text, StringComparison.Ordinal);
            Assert.Contains("| sink / (floor + read-back) |", text, StringComparison.Ordinal);
            Assert.Contains("| sink / (floor + read-back), 20-record batches |", text, StringComparison.Ordinal);

            // 3 × 40 full and 2 × 20 small records: the floor landed the same rows as the sink, exactly once; one ratio per repetition.
            Assert.Contains("OK    every row landed exactly once (sink 160, floor 160, floor + read-back 160, engine 120, expected 160)", text, StringComparison.Ordinal);
            var e2e = doc.RootElement.GetProperty("end_to_end");
            Assert.Equal(2, e2e.GetProperty("floor_ms").GetArrayLength());
            Assert.Equal(2, e2e.GetProperty("ratio_sink_floor").GetArrayLength());
            Assert.Equal(2, e2e.GetProperty("small_batch_ratio_sink_floor").GetArrayLength());
            Assert.Equal(2, e2e.GetProperty("ratio_sink_floor_read_back").GetArrayLength());
            Assert.Equal(2, e2e.GetProperty("small_batch_floor_read_back_ms").GetArrayLength());
            Assert.True(e2e.GetProperty("floor_ms_median").GetDouble() > 0);

            // Three protocol cuts for each batch size, each with one sample per repetition.
            var cuts = e2e.GetProperty("protocol_cuts");
            Assert.Equal(6, cuts.GetArrayLength());
            Assert.All(cuts.EnumerateArray(), c => Assert.Equal(2, c.GetProperty("ms").GetArrayLength()));
            Assert.Contains("| state write sent with the inserts, not before |", text, StringComparison.Ordinal);
            Assert.False(doc.RootElement.TryGetProperty("scale", out _), "--sections e2e ran the scale section too");

            // Per invocation (2 batches after a warm-up, through the recording proxy): 6 partitions, one target insert
            // and one part per insert at least, a state write, and the round trips that could not overlap.
            var per = e2e.GetProperty("per_invocation");
            Assert.Equal(2, per.GetArrayLength());
            foreach (var invocation in per.EnumerateArray())
            {
                var inserts = invocation.GetProperty("inserts_by_table").GetProperty("events").GetInt64();
                Assert.InRange(inserts, 1, 6);
                Assert.Equal(inserts, invocation.GetProperty("parts_by_table").GetProperty("events").GetInt64());
                Assert.True(invocation.GetProperty("inserts_by_table").GetProperty("kafka_sink_state").GetInt64() >= 1, invocation.ToString());
                Assert.True(invocation.GetProperty("waves").GetInt32() >= 2, invocation.ToString());
            }

            Assert.Contains("| **sequential round trips (waves)** |", text, StringComparison.Ordinal);
            Assert.Contains("Load average (1, 5, 15 min) before this section:", text, StringComparison.Ordinal);
            Assert.True(doc.RootElement.GetProperty("load_average").TryGetProperty("end_to_end", out _));
        }
    }

    [Fact]
    public async Task Scale_Alone_ReportsEveryStepAndLandsEveryRecordOnce()
    {
        var (code, text, doc) = await RunAsync("--scale", "--scale-processes", "1,2", "--scale-partitions", "3", "--scale-seconds", "1", "--scale-records", "10");
        using (doc)
        {
            Assert.True(code == 0, text);
            Assert.Contains(BenchRunner.Sections[7], text, StringComparison.Ordinal);
            Assert.DoesNotContain(BenchRunner.Sections[1], text, StringComparison.Ordinal);
            Assert.Contains("OK    scale (sink): every record landed exactly once", text, StringComparison.Ordinal);
            var scale = doc.RootElement.GetProperty("scale");
            var steps = scale.GetProperty("steps");
            Assert.Equal(2, steps.GetArrayLength());
            foreach (var step in steps.EnumerateArray())
            {
                Assert.Equal(3, step.GetProperty("partitions").GetInt32());
                Assert.True(step.GetProperty("invocations").GetInt32() > 0, step.ToString());

                // Every invocation carries all 3 partitions, 10 / 3 = 3 records each (fresh offsets).
                Assert.Equal(3, step.GetProperty("partitions_per_event").GetInt32());
                Assert.Equal(step.GetProperty("invocations").GetInt32() * 9, step.GetProperty("rows").GetInt64());

                // The proxy saw the target inserts, each a part of its own (a non-partitioned table), and at least one state write.
                var per = step.GetProperty("per_invocation");
                Assert.True(per.GetProperty("target_inserts_mean").GetDouble() >= 1, per.ToString());
                Assert.Equal(per.GetProperty("target_inserts_mean").GetDouble(), per.GetProperty("target_parts").GetDouble(), 3);
                Assert.True(per.GetProperty("state_inserts_mean").GetDouble() >= 1, per.ToString());
                Assert.True(per.GetProperty("waves_median").GetDouble() >= 2, per.ToString());
                Assert.True(per.GetProperty("requests_median").GetDouble() >= per.GetProperty("waves_median").GetDouble(), per.ToString());
                Assert.Equal(ScaleSection.Probes, per.GetProperty("sink_over_engine").GetArrayLength());
            }

            Assert.True(scale.GetProperty("samples").GetArrayLength() >= 2);
        }
    }

    [Fact]
    public async Task Routing_TinySize_LandsEveryRecordOnceInEachSetup_AndReportsTheRatiosPerRepetition()
    {
        var (code, text, doc) = await RunAsync("--sections", "routing", "--repetitions", "2", "--records", "48");
        using (doc)
        {
            Assert.True(code == 0, text);
            Assert.Contains(BenchRunner.Sections[8], text, StringComparison.Ordinal);

            // 3 batches (one warm-up) × 48 records, in each of the three set-ups.
            Assert.Contains("OK    routing: every record landed exactly once in one table by topic (144), in the table of its type by topic (144) and by field (144; expected 144 each)", text, StringComparison.Ordinal);
            Assert.Contains("| **by field / by topic, the same six tables** |", text, StringComparison.Ordinal);
            var routing = doc.RootElement.GetProperty("routing_end_to_end");
            Assert.Equal(3, routing.GetProperty("setups").GetArrayLength());
            Assert.All(routing.GetProperty("setups").EnumerateArray(), s => Assert.Equal(2, s.GetProperty("cpu_ms").GetArrayLength()));
            Assert.Equal(2, routing.GetProperty("ratio_field_over_topic_same_tables_cpu").GetArrayLength());
            Assert.True(doc.RootElement.GetProperty("load_average").TryGetProperty("routing_end_to_end", out _));
            Assert.False(doc.RootElement.TryGetProperty("end_to_end", out _), "--sections routing ran section 2 too");
        }
    }

    private async Task<(int Code, string Text, JsonDocument Doc)> RunAsync(params string[] args)
    {
        var json = Path.Combine(Path.GetTempPath(), $"bench-{Guid.NewGuid():N}.json");
        using var output = new StringWriter();
        using var error = new StringWriter();
        try
        {
            var code = await BenchRunner.RunAsync(
                [
                    .. args, "--clickhouse-url", clickHouse.Server.BaseUri.ToString(),
                    "--clickhouse-user", clickHouse.Server.User, "--clickhouse-password", clickHouse.Server.Password,
                    "--aot-bootstrap", published.AotBootstrap, "--jit-bootstrap", published.JitBootstrap, "--output", json,
                ],
                output,
                error,
                TestContext.Current.CancellationToken);
            var text = output + "\n" + error;
            return (code, text, File.Exists(json) ? JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken)) : JsonDocument.Parse("{}"));
        }
        finally
        {
            File.Delete(json);
        }
    }
}
