using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>One (processes, partitions) step of the scale simulation.</summary>
internal sealed record ScaleCell(
    int Processes,
    int Partitions,
    double Seconds,
    int Invocations,
    long Rows,
    List<double> InvocationMs,
    long TargetPartsCreated,
    long StatePartsCreated,
    ScaleSample End,
    int StateActivePartsMax)
{
    public double RowsPerSecond => Rows / Seconds;

    public double TargetPartsPerMinute => TargetPartsCreated / Seconds * 60;

    public double StatePartsPerMinute => StatePartsCreated / Seconds * 60;
}

/// <summary>The state and target tables at one moment: rows (unmerged, no FINAL), active parts, highest block number.</summary>
internal sealed record ScaleSample(double AtSeconds, long StateRows, int StateActiveParts, int TargetActiveParts, long StateBlocks, long TargetBlocks);

internal sealed record ScaleResult(int RecordsPerInvocation, int ValueBytes, int EventBytes, List<ScaleCell> Cells, List<ScaleSample> Samples, double TotalSeconds, Check Landed);

/// <summary>
/// Section 8: N bootstrap processes (each behind its own Runtime API emulator: one invocation at a time, like one Lambda
/// execution environment) consume P partitions of one topic the way the event-source mapping does: at most one
/// invocation in flight per partition, each with the next offsets of that partition. Every step runs for a fixed time;
/// a sampler reads the state and target tables' rows and parts once a second. One database for the whole run, so the
/// state table's growth over time is visible across steps.
/// </summary>
internal static class ScaleSection
{
    public static async Task<ScaleResult> RunAsync(BenchContext context, CancellationToken ct)
    {
        var options = context.Options;
        var engine = context.Engine;
        var total = Stopwatch.StartNew();
        var db = await context.CreateDatabaseAsync("scale", ct);
        await engine.QueryAsync(Workload.CreateTable(db, "events"), ct);
        var maxProcesses = options.ScaleProcesses.Max();
        var events = new ScaleEvents(options.ScalePartitions.Max(), options.ScaleRecords, options.ValueBytes);

        var functions = new List<(Emulator Emulator, BootstrapProcess Process)>();
        try
        {
            for (var i = 0; i < maxProcesses; i++)
            {
                var emulator = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromMinutes(2) });
                var env = context.Env(engine.Url, db, "none");
                env["TOPIC_TABLES"] = $"{ScaleEvents.Topic}=events";
                functions.Add((emulator, BootstrapProcess.Start(context.Aot, emulator.Endpoint, env)));
            }

            // Init of every process (connect, create tables) before the clock starts.
            await Task.WhenAll(functions.Select(f => f.Emulator.FirstNextRequest.WaitAsync(TimeSpan.FromSeconds(60), ct)));

            var samples = new List<ScaleSample>();
            var cells = new List<ScaleCell>();
            foreach (var partitions in options.ScalePartitions)
            {
                foreach (var processes in options.ScaleProcesses)
                {
                    cells.Add(await RunCellAsync(context, db, events, functions.Take(processes).ToList(), partitions, samples, total, ct));
                }
            }

            var sent = events.RecordsSent;
            var landed = await engine.CountAsync($"{db}.events", ct);
            var distinct = long.Parse((await engine.QueryAsync($"SELECT uniqExact(_partition, _offset) FROM {db}.events", ct)).Trim(), CultureInfo.InvariantCulture);
            var check = new Check(landed == sent && distinct == sent, $"scale: every record landed exactly once (sent {sent}, rows {landed}, distinct offsets {distinct})");
            return new ScaleResult(options.ScaleRecords, options.ValueBytes, events.EventBytes, cells, samples, total.Elapsed.TotalSeconds, check);
        }
        finally
        {
            foreach (var (emulator, process) in functions)
            {
                process.Terminate();
                await process.WaitForExitAsync(TimeSpan.FromSeconds(10));
                process.Dispose();
                await emulator.DisposeAsync();
            }
        }
    }

    private static async Task<ScaleCell> RunCellAsync(
        BenchContext context, string db, ScaleEvents events, List<(Emulator Emulator, BootstrapProcess Process)> functions, int partitions, List<ScaleSample> samples, Stopwatch total, CancellationToken ct)
    {
        var before = await SampleAsync(context.Engine, db, total, ct);
        var rowsBefore = await context.Engine.CountAsync($"{db}.events", ct);
        var free = Channel.CreateUnbounded<int>();
        for (var p = 0; p < partitions; p++)
        {
            free.Writer.TryWrite(p);
        }

        var duration = TimeSpan.FromSeconds(context.Options.ScaleSeconds);
        var times = new List<double>();
        var clock = Stopwatch.StartNew();
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var stateMax = before.StateActiveParts;
        var sampler = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(1000, stopSampling.Token);
                    var s = await SampleAsync(context.Engine, db, total, stopSampling.Token);
                    lock (samples)
                    {
                        samples.Add(s);
                        stateMax = Math.Max(stateMax, s.StateActiveParts);
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }, CancellationToken.None);

        // Each worker is one execution environment: it takes a partition no one is invoking, invokes, gives it back.
        var workers = functions.Select(f => Task.Run(async () =>
        {
            while (clock.Elapsed < duration)
            {
                var p = await free.Reader.ReadAsync(ct);
                byte[] mskEvent;
                lock (events)
                {
                    mskEvent = events.Next(p);
                }

                var ms = await BenchContext.InvokeAsync(f.Emulator, f.Process, mskEvent, ct);
                lock (times)
                {
                    times.Add(ms);
                }

                free.Writer.TryWrite(p);
            }
        }, ct)).ToList();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        await stopSampling.CancelAsync();
        await sampler;
        var after = await SampleAsync(context.Engine, db, total, ct);
        samples.Add(after);
        var rows = await context.Engine.CountAsync($"{db}.events", ct) - rowsBefore;
        return new ScaleCell(
            functions.Count,
            partitions,
            seconds,
            times.Count,
            rows,
            times,
            after.TargetBlocks - before.TargetBlocks,
            after.StateBlocks - before.StateBlocks,
            after,
            Math.Max(stateMax, after.StateActiveParts));
    }

    private static async Task<ScaleSample> SampleAsync(EngineClient engine, string db, Stopwatch total, CancellationToken ct)
    {
        var text = await engine.QueryAsync(
            $"SELECT (SELECT count() FROM {db}.kafka_sink_state), " +
            $"countIf(active AND table = 'kafka_sink_state'), countIf(active AND table = 'events'), " +
            $"maxIf(max_block_number, table = 'kafka_sink_state'), maxIf(max_block_number, table = 'events') " +
            $"FROM system.parts WHERE database = '{db}' FORMAT TSV",
            ct);
        var f = text.Trim().Split('\t');
        long L(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
        return new ScaleSample(total.Elapsed.TotalSeconds, L(0), (int)L(1), (int)L(2), L(3), L(4));
    }
}
