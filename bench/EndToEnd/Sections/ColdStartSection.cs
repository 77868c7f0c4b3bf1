using System.Diagnostics;
using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>Samples of one build: start → first /next (init), start → first response, peak RSS.</summary>
internal sealed record ColdStartSamples(List<double> Cold, List<double> Init, List<double> RssMiB);

internal sealed record ColdStartResult(int Starts, ColdStartSamples Aot, ColdStartSamples Jit, long AotBinaryBytes)
{
    public double JitOverAot => Stats.Median(Jit.Cold) / Stats.Median(Aot.Cold);
}

/// <summary>Section 3: process start → first response of a 12-record event, AOT and JIT alternating, fresh database each.</summary>
internal static class ColdStartSection
{
    public static async Task<ColdStartResult> RunAsync(BenchContext context, CancellationToken ct)
    {
        var jit = context.Jit ?? throw new InvalidOperationException("the cold-start section needs the JIT bootstrap");
        var samples = new Dictionary<string, ColdStartSamples>
        {
            ["aot"] = new([], [], []),
            ["jit"] = new([], [], []),
        };
        for (var i = 0; i < context.Options.ColdStarts; i++)
        {
            foreach (var build in i % 2 == 0 ? new[] { "aot", "jit" } : ["jit", "aot"])
            {
                var db = await context.CreateDatabaseAsync("cold", ct);
                await context.Engine.QueryAsync(Workload.CreateTable(db, "events"), ct);
                await using var emulator = Emulator.Start();
                var first = emulator.EnqueueAsync(Workload.Small(i), TimeSpan.FromSeconds(60), cancellationToken: ct);
                using var process = BootstrapProcess.Start(build == "aot" ? context.Aot : jit, emulator.Endpoint, context.Env(context.Engine.Url, db, "none"));
                var cold = await first;
                if (!cold.Success)
                {
                    throw new InvalidOperationException($"cold start of {build} failed: {cold.BodyText}");
                }

                samples[build].Cold.Add((cold.CompletedTimestamp - process.StartTimestamp) * 1000.0 / Stopwatch.Frequency);
                samples[build].Init.Add((cold.NextServedTimestamp - process.StartTimestamp) * 1000.0 / Stopwatch.Frequency);
                samples[build].RssMiB.Add(process.PeakRssBytes / 1048576.0);
                process.Terminate();
                await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
            }
        }

        return new ColdStartResult(context.Options.ColdStarts, samples["aot"], samples["jit"], new FileInfo(context.Aot).Length);
    }
}
