using System.Globalization;
using System.Text;
using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.TestSupport;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Function.Tests;

/// <summary>
/// Measures what the Native AOT build buys: process start → first response (cold start), start → first /next (init),
/// binary size and peak RSS, against the embedded ClickHouse (init connects and creates the sink's tables), for the AOT binary and the same Program run as a JIT app. Written to the test output and
/// to artifacts/function-tests/measurements.md. Only sanity is asserted: the numbers depend on the machine.
/// Runs alone (its own non-parallel collection) so that other tests' processes do not skew the timings.
/// </summary>
[Collection(nameof(ColdStartMeasurementTests))]
public sealed class ColdStartMeasurementTests(PublishedBootstrap published, ClickHouseFixture clickHouse)
{
    private const int Runs = 5;

    [Fact]
    public async Task ColdStart_AotAndJit_AreMeasured()
    {
        var aot = await MeasureAsync(published.AotBootstrap);
        var jit = await MeasureAsync(published.JitBootstrap);
        var aotSize = new FileInfo(published.AotBootstrap).Length;
        var jitSize = Directory.EnumerateFiles(published.JitDirectory, "*.dll").Sum(f => new FileInfo(f).Length);

        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"# Bootstrap cold start ({Runs} runs each, median [min-max]; {Environment.ProcessorCount} cores)")
            .AppendLine()
            .AppendLine("| build | start → first /next (init) | start → first response (cold start) | warm invocation | peak RSS | size |")
            .AppendLine("| --- | --- | --- | --- | --- | --- |")
            .AppendLine(Row("Native AOT", aot, $"{aotSize / 1048576.0:0.0} MiB binary"))
            .AppendLine(Row("JIT (dotnet bootstrap.dll)", jit, $"{jitSize / 1048576.0:0.0} MiB of dlls + shared runtime"))
            .ToString();
        TestContext.Current.TestOutputHelper?.WriteLine(report);
        await File.WriteAllTextAsync(Path.Combine(published.RepositoryRoot, "artifacts", "function-tests", "measurements.md"), report, TestContext.Current.CancellationToken);

        Assert.True(Median(aot.ColdStartMs) < 2000, report);
        Assert.True(aot.PeakRss.Min() > 0, report);
    }

    private static string Row(string name, Sample s, string size) =>
        string.Create(CultureInfo.InvariantCulture, $"| {name} | {Stat(s.InitMs)} ms | {Stat(s.ColdStartMs)} ms | {Stat(s.WarmMs)} ms | {Median(s.PeakRss.Select(b => b / 1048576.0).ToList()):0.0} MiB | {size} |");

    private static string Stat(List<double> values) =>
        string.Create(CultureInfo.InvariantCulture, $"{Median(values):0.0} [{values.Min():0.0}-{values.Max():0.0}]");

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private async Task<Sample> MeasureAsync(string bootstrap)
    {
        var sample = new Sample();
        var ct = TestContext.Current.CancellationToken;
        for (var run = 0; run < Runs; run++)
        {
            // A fresh database per run: init creates the dead-letter and state tables, and the first insert is a real one.
            var db = await clickHouse.CreateDatabaseAsync("coldstart", ct);
            await clickHouse.Server.QueryAsync(SinkEnvironment.MetadataTable(db, "orders", BootstrapEndToEndTests.OrdersColumns), ct);
            await using var emulator = Emulator.Start();

            // Queue the event first, so that the first /next is answered at once, as for a cold invocation.
            var first = emulator.EnqueueAsync(BootstrapEndToEndTests.MskEvent, TimeSpan.FromSeconds(30), cancellationToken: ct);
            using var process = BootstrapProcess.Start(bootstrap, emulator.Endpoint, SinkEnvironment.For(clickHouse, db));
            var cold = await first;
            Assert.True(cold.Success, cold.BodyText);
            Assert.Equal("""{"batchItemFailures":[]}""", cold.BodyText);
            var warm = await emulator.EnqueueAsync(BootstrapEndToEndTests.MskEvent, TimeSpan.FromSeconds(30), cancellationToken: ct);
            Assert.True(warm.Success, warm.BodyText);

            sample.ColdStartMs.Add(Ms(process.StartTimestamp, cold.CompletedTimestamp));
            sample.InitMs.Add(Ms(process.StartTimestamp, cold.NextServedTimestamp));
            sample.WarmMs.Add(Ms(warm.NextServedTimestamp, warm.CompletedTimestamp));
            sample.PeakRss.Add(process.PeakRssBytes);
            process.Terminate();
            await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }

        return sample;
    }

    private static double Ms(long from, long to) => (to - from) * 1000.0 / System.Diagnostics.Stopwatch.Frequency;

    private sealed class Sample
    {
        public List<double> ColdStartMs { get; } = [];

        public List<double> InitMs { get; } = [];

        public List<double> WarmMs { get; } = [];

        public List<double> PeakRss { get; } = [];
    }
}

/// <summary>Keeps the measurement away from the other tests.</summary>
[CollectionDefinition(nameof(ColdStartMeasurementTests), DisableParallelization = true)]
public sealed class ColdStartMeasurementCollection;
