using System.Diagnostics;
using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>Section 2's figures: per-repetition samples of the sink, the engine alone and the protocol floor.</summary>
internal sealed record EndToEndResult(
    int Rows,
    int ValueBytes,
    int EventBytes,
    long RowsBytes,
    int Repetitions,
    List<double> Sink,
    List<double> Engine,
    List<double> Floor,
    int SmallRecords,
    int SmallEventBytes,
    List<double> SmallSink,
    List<double> SmallFloor,
    long PeakRss,
    List<double> SinkCpu,
    Check Landed)
{
    public double SinkMs => Stats.Median(Sink);

    public double EngineMs => Stats.Median(Engine);

    public List<double> SinkOverEngine => [.. Sink.Zip(Engine, (a, b) => a / b)];

    public List<double> SinkOverFloor => [.. Sink.Zip(Floor, (a, b) => a / b)];

    public List<double> SmallSinkOverFloor => [.. SmallSink.Zip(SmallFloor, (a, b) => a / b)];
}

/// <summary>
/// Section 2: the AOT bootstrap end to end (Runtime API /next → response) against the engine's own INSERT FROM INFILE
/// of the same rows and against the protocol floor (<see cref="ProtocolFloor"/>), in rotating order per repetition so
/// that none always runs on a warmer engine; then 1,000-record batches, sink and floor alternating.
/// </summary>
internal static class EndToEndSection
{
    public static async Task<EndToEndResult> RunAsync(BenchContext context, Workload workload, CancellationToken ct)
    {
        var options = context.Options;
        var engine = context.Engine;
        var db = await context.CreateDatabaseAsync("e2e", ct);
        await engine.QueryAsync(Workload.CreateTable(db, "events"), ct);
        await engine.QueryAsync(Workload.CreateTable(db, "events_engine"), ct);
        await engine.QueryAsync(Workload.CreateTable(db, "events_floor"), ct);
        await using var emulator = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromMinutes(2) });
        using var function = BootstrapProcess.Start(context.Aot, emulator.Endpoint, context.Env(engine.Url, db, "none"));
        using var floor = new ProtocolFloor(engine, db, "events_floor");
        var sink = new List<double>();
        var eng = new List<double>();
        var flo = new List<double>();
        var cpu = new List<double>();
        var rows = 0;
        long fileBytes = 0;
        for (var rep = 0; rep <= options.Repetitions; rep++)
        {
            var mskEvent = workload.Event(rep);
            var file = Path.Combine(context.Tmp, $"rows-{context.Stamp}-{rep}.jsonl");
            var body = Workload.Rows(mskEvent, out rows);
            await File.WriteAllBytesAsync(file, body, ct);
            fileBytes = body.Length;
            var prepared = floor.Prepare(mskEvent);

            // Rotate which goes first, so that none always runs on a warmer engine.
            double s = 0, e = 0, f = 0;
            var steps = new Func<Task>[]
            {
                async () =>
                {
                    var c0 = ProcessCpu.Ms(function.ProcessId);
                    s = await BenchContext.InvokeAsync(emulator, function, mskEvent, ct);
                    cpu.Add(ProcessCpu.Ms(function.ProcessId) - c0);
                },
                async () => e = await EngineInsertAsync(engine, db, file, ct),
                async () => f = await floor.RunAsync(prepared, ct),
            };
            for (var i = 0; i < steps.Length; i++)
            {
                await steps[(rep + i) % steps.Length]();
            }

            File.Delete(file);
            if (rep > 0)
            {
                sink.Add(s);
                eng.Add(e);
                flo.Add(f);
            }
        }

        // The same function with 1,000-record batches (the old BatchSize default), after the full ones: per-batch fixed cost.
        var smallSize = Math.Min(1000, Math.Max(1, workload.Records / 2));
        var small = new Workload(smallSize, workload.ValueBytes);
        var smallMs = new List<double>();
        var smallFloor = new List<double>();
        for (var rep = 0; rep < options.Repetitions; rep++)
        {
            var mskEvent = small.Event(200 + rep);
            var prepared = floor.Prepare(mskEvent);
            if (rep % 2 == 0)
            {
                smallMs.Add(await BenchContext.InvokeAsync(emulator, function, mskEvent, ct));
                smallFloor.Add(await floor.RunAsync(prepared, ct));
            }
            else
            {
                smallFloor.Add(await floor.RunAsync(prepared, ct));
                smallMs.Add(await BenchContext.InvokeAsync(emulator, function, mskEvent, ct));
            }
        }

        var expected = ((long)rows * (options.Repetitions + 1)) + ((long)small.Records * options.Repetitions);
        var landed = await engine.CountAsync($"{db}.events", ct);
        var engineLanded = await engine.CountAsync($"{db}.events_engine", ct);
        var floorLanded = await engine.CountAsync($"{db}.events_floor", ct);
        var peak = function.PeakRssBytes;
        function.Terminate();
        await function.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var check = new Check(
            landed == expected && floorLanded == expected && engineLanded == (long)rows * (options.Repetitions + 1),
            $"every row landed exactly once (sink {landed}, floor {floorLanded}, engine {engineLanded}, expected {expected})");
        return new EndToEndResult(rows, workload.ValueBytes, workload.EventBytes, fileBytes, options.Repetitions, sink, eng, flo, small.Records, small.EventBytes, smallMs, smallFloor, peak, cpu.Skip(1).ToList(), check);
    }

    private static async Task<double> EngineInsertAsync(EngineClient engine, string db, string file, CancellationToken ct)
    {
        var w = Stopwatch.StartNew();
        await engine.QueryAsync($"INSERT INTO {db}.events_engine FROM INFILE '{file}' FORMAT JSONEachRow", ct);
        return w.Elapsed.TotalMilliseconds;
    }
}
