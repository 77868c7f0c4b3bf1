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
    List<double> FloorReadBack,
    int SmallRecords,
    int SmallEventBytes,
    List<double> SmallSink,
    List<double> SmallFloor,
    List<double> SmallFloorReadBack,
    long PeakRss,
    List<double> SinkCpu,
    List<ProtocolCut> Cuts,
    List<double> Baseline,
    List<double> SmallBaseline,
    List<double> BaselineCpu,
    List<InvocationRecord> Anatomy,
    List<double> SinkCpuTicks,
    Check Landed)
{
    public double SinkMs => Stats.Median(Sink);

    public double EngineMs => Stats.Median(Engine);

    public List<double> SinkOverEngine => [.. Sink.Zip(Engine, (a, b) => a / b)];

    public List<double> SinkOverFloor => [.. Sink.Zip(Floor, (a, b) => a / b)];

    public List<double> SmallSinkOverFloor => [.. SmallSink.Zip(SmallFloor, (a, b) => a / b)];

    public List<double> SinkOverFloorReadBack => [.. Sink.Zip(FloorReadBack, (a, b) => a / b)];

    public List<double> SmallSinkOverFloorReadBack => [.. SmallSink.Zip(SmallFloorReadBack, (a, b) => a / b)];

    public List<double> CpuOverBaseline => [.. SinkCpu.Zip(BaselineCpu, (a, b) => a / b)];

    public List<double> BaselineOverFloor => [.. Baseline.Zip(Floor, (a, b) => a / b)];

    public List<double> SmallBaselineOverFloor => [.. SmallBaseline.Zip(SmallFloor, (a, b) => a / b)];
}

/// <summary>A protocol variant measured with the floor's client, against the full floor in the same repetitions.</summary>
internal sealed record ProtocolCut(ProtocolFloor.Variant Variant, int Records, List<double> Ms, List<double> FullMs)
{
    public List<double> SavedMs => [.. FullMs.Zip(Ms, (f, v) => f - v)];
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
        await engine.QueryAsync(Workload.CreateTable(db, "events_floor_rb"), ct);
        await using var emulator = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromMinutes(2) });
        using var function = BootstrapProcess.Start(context.Aot, emulator.Endpoint, context.Env(engine.Url, db, "none"));
        using var floor = new ProtocolFloor(engine, ProtocolFloor.OptionsFor(context, db, "floor"), "events_floor");

        // The floor plus the sink's read-back of concurrent plans, on its own sink_id and table (same rows).
        using var floorRb = new ProtocolFloor(engine, ProtocolFloor.OptionsFor(context, db, "floor-rb"), "events_floor_rb");

        // Optionally a baseline bootstrap (an older build) in the same rotation, into its own database.
        Emulator? baselineEmulator = null;
        BootstrapProcess? baselineFunction = null;
        string? baselineDb = null;
        if (options.BaselineBootstrap is { } baselinePath)
        {
            baselineDb = await context.CreateDatabaseAsync("e2e_baseline", ct);
            await engine.QueryAsync(Workload.CreateTable(baselineDb, "events"), ct);
            baselineEmulator = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromMinutes(2) });
            baselineFunction = BootstrapProcess.Start(baselinePath, baselineEmulator.Endpoint, context.Env(engine.Url, baselineDb, "none"));
        }

        var baseline = new List<double>();
        var smallBaseline = new List<double>();
        var baselineCpu = new List<double>();
        var sink = new List<double>();
        var eng = new List<double>();
        var flo = new List<double>();
        var floRb = new List<double>();
        var cpu = new List<double>();
        var cpuTicks = new List<double>();
        var rows = 0;
        long fileBytes = 0;
        for (var rep = 0; rep <= options.Repetitions; rep++)
        {
            var mskEvent = workload.Event(rep);
            var file = Path.Combine(context.Tmp, $"rows-{context.Stamp}-{rep}.jsonl");
            var body = Workload.Rows(mskEvent, out rows);
            await File.WriteAllBytesAsync(file, body, ct);
            fileBytes = body.Length;
            var prepared = await floor.PrepareAsync(mskEvent, ct);
            var preparedRb = await floorRb.PrepareAsync(mskEvent, ct);

            // Rotate which goes first, so that none always runs on a warmer engine.
            double s = 0, e = 0, f = 0, fr = 0, b = 0;
            var steps = new List<Func<Task>>
            {
                async () =>
                {
                    var (c0, t0) = (ProcessCpu.Ms(function.ProcessId), ProcessCpu.TicksMs(function.ProcessId));
                    s = await BenchContext.InvokeAsync(emulator, function, mskEvent, ct);
                    cpu.Add(ProcessCpu.Ms(function.ProcessId) - c0);
                    cpuTicks.Add(ProcessCpu.TicksMs(function.ProcessId) - t0);
                },
                async () => e = await EngineInsertAsync(engine, db, file, ct),
                async () => f = await floor.RunAsync(prepared, ct),
                async () => fr = await floorRb.RunAsync(preparedRb, ct, ProtocolFloor.Variant.WithReadBack),
            };
            if (baselineFunction is not null)
            {
                steps.Add(async () =>
                {
                    var c0 = ProcessCpu.Ms(baselineFunction.ProcessId);
                    b = await BenchContext.InvokeAsync(baselineEmulator!, baselineFunction, mskEvent, ct);
                    baselineCpu.Add(ProcessCpu.Ms(baselineFunction.ProcessId) - c0);
                });
            }

            for (var i = 0; i < steps.Count; i++)
            {
                await steps[(rep + i) % steps.Count]();
            }

            File.Delete(file);
            if (rep > 0)
            {
                sink.Add(s);
                eng.Add(e);
                flo.Add(f);
                floRb.Add(fr);
                if (baselineFunction is not null)
                {
                    baseline.Add(b);
                }
            }
        }

        // The same function with 1,000-record batches (the old BatchSize default), after the full ones: per-batch fixed cost.
        var smallSize = Math.Min(1000, Math.Max(1, workload.Records / 2));
        var small = new Workload(smallSize, workload.ValueBytes);
        var smallMs = new List<double>();
        var smallFloor = new List<double>();
        var smallFloorRb = new List<double>();
        for (var rep = 0; rep < options.Repetitions; rep++)
        {
            var mskEvent = small.Event(200 + rep);
            var prepared = await floor.PrepareAsync(mskEvent, ct);
            var preparedRb = await floorRb.PrepareAsync(mskEvent, ct);
            var steps = new List<Func<Task>>
            {
                async () => smallMs.Add(await BenchContext.InvokeAsync(emulator, function, mskEvent, ct)),
                async () => smallFloor.Add(await floor.RunAsync(prepared, ct)),
                async () => smallFloorRb.Add(await floorRb.RunAsync(preparedRb, ct, ProtocolFloor.Variant.WithReadBack)),
            };
            if (baselineFunction is not null)
            {
                steps.Add(async () => smallBaseline.Add(await BenchContext.InvokeAsync(baselineEmulator!, baselineFunction, mskEvent, ct)));
            }

            for (var i = 0; i < steps.Count; i++)
            {
                await steps[(rep + i) % steps.Count]();
            }
        }

        var cuts = await MeasureCutsAsync(context, db, workload, small, ct);
        var anatomy = await InvocationAnatomy.RunAsync(context, i => workload.Event(300 + i), Math.Min(options.Repetitions, 3), ct);
        var expected = ((long)rows * (options.Repetitions + 1)) + ((long)small.Records * options.Repetitions);
        var landed = await engine.CountAsync($"{db}.events", ct);
        var engineLanded = await engine.CountAsync($"{db}.events_engine", ct);
        var floorLanded = await engine.CountAsync($"{db}.events_floor", ct);
        var floorRbLanded = await engine.CountAsync($"{db}.events_floor_rb", ct);
        var peak = function.PeakRssBytes;
        function.Terminate();
        await function.WaitForExitAsync(TimeSpan.FromSeconds(10));
        var baselineOk = true;
        var baselineText = string.Empty;
        if (baselineFunction is not null)
        {
            var baselineLanded = await engine.CountAsync($"{baselineDb}.events", ct);
            baselineOk = baselineLanded == expected;
            baselineText = $", baseline {baselineLanded}";
            baselineFunction.Terminate();
            await baselineFunction.WaitForExitAsync(TimeSpan.FromSeconds(10));
            baselineFunction.Dispose();
            await baselineEmulator!.DisposeAsync();
        }

        var check = new Check(
            landed == expected && floorLanded == expected && floorRbLanded == expected && baselineOk && engineLanded == (long)rows * (options.Repetitions + 1),
            $"every row landed exactly once (sink {landed}, floor {floorLanded}, floor + read-back {floorRbLanded}{baselineText}, engine {engineLanded}, expected {expected})");
        return new EndToEndResult(rows, workload.ValueBytes, workload.EventBytes, fileBytes, options.Repetitions, sink, eng, flo, floRb, small.Records, small.EventBytes, smallMs, smallFloor, smallFloorRb, peak, cpu.Skip(1).ToList(), cuts, baseline, smallBaseline, baselineCpu.Skip(1).ToList(), anatomy, cpuTicks.Skip(1).ToList(), check);
    }

    /// <summary>
    /// The protocol cuts the lead may schedule, each measured with the floor's client against the full floor in the
    /// same repetition (rotating order, fresh offsets for every run, its own sink_id and table): what each would save.
    /// </summary>
    private static async Task<List<ProtocolCut>> MeasureCutsAsync(BenchContext context, string db, Workload full, Workload small, CancellationToken ct)
    {
        await context.Engine.QueryAsync(Workload.CreateTable(db, "events_cuts"), ct);
        using var client = new ProtocolFloor(context.Engine, ProtocolFloor.OptionsFor(context, db, "floor-cuts"), "events_cuts");

        // The read-back is measured in the main rotation, against the sink.
        var variants = Enum.GetValues<ProtocolFloor.Variant>().Where(v => v != ProtocolFloor.Variant.WithReadBack).ToArray();
        var cuts = new List<ProtocolCut>();
        var seed = 1000;
        foreach (var workload in new[] { full, small })
        {
            var samples = variants.ToDictionary(v => v, _ => new List<double>());
            for (var rep = 0; rep <= context.Options.Repetitions; rep++)
            {
                for (var i = 0; i < variants.Length; i++)
                {
                    var variant = variants[(rep + i) % variants.Length];
                    var ms = await client.RunAsync(await client.PrepareAsync(workload.Event(seed++), ct), ct, variant);
                    if (rep > 0)
                    {
                        samples[variant].Add(ms);
                    }
                }
            }

            cuts.AddRange(variants.Where(v => v != ProtocolFloor.Variant.Full).Select(v => new ProtocolCut(v, workload.Records, samples[v], samples[ProtocolFloor.Variant.Full])));
        }

        return cuts;
    }

    private static async Task<double> EngineInsertAsync(EngineClient engine, string db, string file, CancellationToken ct)
    {
        var w = Stopwatch.StartNew();
        await engine.QueryAsync($"INSERT INTO {db}.events_engine FROM INFILE '{file}' FORMAT JSONEachRow", ct);
        return w.Elapsed.TotalMilliseconds;
    }
}
