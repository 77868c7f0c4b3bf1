using System.Text.Json;
using MskClickHouse.Bench.EndToEnd;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Function.Tests;

/// <summary>./bench.sh's entry point at a tiny size against the fixture's engine and bootstraps: every section, valid JSON. No timing is asserted.</summary>
public sealed class BenchTests(PublishedBootstrap published, ClickHouseFixture clickHouse)
{
    [Fact]
    public async Task Bench_TinySize_PrintsEverySectionAndWritesValidJson()
    {
        var json = Path.Combine(Path.GetTempPath(), $"bench-{Guid.NewGuid():N}.json");
        using var output = new StringWriter();
        using var error = new StringWriter();
        try
        {
            var code = await BenchRunner.RunAsync(
                [
                    "--repetitions", "1", "--records", "60", "--cold-starts", "1", "--decode-scale", "0.001", "--decode-iterations", "1",
                    "--compressions", "none,gzip,zstd", "--clickhouse-url", clickHouse.Server.BaseUri.ToString(),
                    "--clickhouse-user", clickHouse.Server.User, "--clickhouse-password", clickHouse.Server.Password,
                    "--aot-bootstrap", published.AotBootstrap, "--jit-bootstrap", published.JitBootstrap, "--output", json,
                ],
                output,
                error,
                TestContext.Current.CancellationToken);

            var text = output + "\n" + error;
            Assert.True(code == 0, text);
            foreach (var section in BenchRunner.Sections)
            {
                Assert.Contains(section, text, StringComparison.Ordinal);
            }

            Assert.Contains("OK    every row landed exactly once", text, StringComparison.Ordinal);
            using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
            foreach (var key in new[] { "machine", "decode", "end_to_end", "cold_start", "memory", "compression", "cost", "breakdown" })
            {
                Assert.True(doc.RootElement.TryGetProperty(key, out _), $"results.json has no '{key}':\n{doc.RootElement}");
            }

            Assert.Equal(3, doc.RootElement.GetProperty("compression").GetArrayLength());
            Assert.Equal(60, doc.RootElement.GetProperty("end_to_end").GetProperty("records_per_batch").GetInt32());
        }
        finally
        {
            File.Delete(json);
        }
    }
}
