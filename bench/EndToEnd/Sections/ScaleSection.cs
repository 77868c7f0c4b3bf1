using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>One (build, processes, partitions) step of the scale simulation.</summary>
internal sealed record ScaleCell(
    string Build,
    int Processes,
    int Partitions,
    int PartitionsPerEvent,
    int RecordsPerPartition,
    int EventBytes,
    double Seconds,
    int Invocations,
    long Rows,
    List<double> InvocationMs,
    long TargetPartsCreated,
    long StatePartsCreated,
    ScaleSample End,
    int StateActivePartsMax,
    List<RequestAnatomy> Requests,
    List<double> SinkOverEngine)
{
    public double RowsPerSecond => Rows / Seconds;

    public double TargetPartsPerMinute => TargetPartsCreated / Seconds * 60;

    public double StatePartsPerMinute => StatePartsCreated / Seconds * 60;

    public double TargetPartsPerInvocation => (double)TargetPartsCreated / Invocations;

    public double StatePartsPerInvocation => (double)StatePartsCreated / Invocations;

    public double TargetInsertsPerInvocation => Requests.Average(r => (double)r.InsertsByTable.GetValueOrDefault(ScaleSection.Target));

    public double StateInsertsPerInvocation => Requests.Average(r => (double)r.InsertsByTable.GetValueOrDefault(ScaleSection.State));

    public List<double> RequestsPerInvocation => [.. Requests.Select(r => (double)r.Requests)];

    public List<double> WavesPerInvocation => [.. Requests.Select(r => (double)r.Waves)];
}

/// <summary>The state and target tables at one moment: rows (unmerged, no FINAL), active parts, highest block number.</summary>
internal sealed record ScaleSample(string Build, double AtSeconds, long StateRows, int StateActiveParts, int TargetActiveParts, long StateBlocks, long TargetBlocks);

internal sealed record ScaleResult(int RecordsPerInvocation, int ValueBytes, List<ScaleCell> Cells, List<ScaleSample> Samples, double TotalSeconds, List<Check> Landed);

/// <summary>
/// Section 8: N bootstrap processes (each behind its own Runtime API emulator: one invocation at a time, like one Lambda
/// execution environment) consume P partitions of one topic the way the event-source mapping does: each invocation
/// carries K partitions (a fixed group of the topic's partitions; K = P by default, one poller for the whole topic),
/// at most one invocation in flight per partition, each with the next offsets of its partitions. Every step runs for a
/// fixed time; a sampler reads the state and target tables' rows and parts once a second. Each process reaches the
/// engine through its own recording proxy, which sees every request of an invocation (requests, waves, inserts per
/// table). After each step, a few invocations of the same shape alternate with the engine inserting the same rows
/// (sink / engine). One database per build for the whole run, so the state table's growth is visible across steps;
/// with <c>--baseline-bootstrap</c> every step runs with both builds, alternating which goes first.
/// </summary>
internal static class ScaleSection
{
    public const string Target = "events";
    public const string State = "kafka_sink_state";
    public const int Probes = 3;

    public static async Task<ScaleResult> RunAsync(BenchContext context, CancellationToken ct)
    {
        var options = context.Options;
        var total = Stopwatch.StartNew();
        var builds = new List<ScaleBuild>();
        try
        {
            if (options.BaselineBootstrap is { } baseline)
            {
                builds.Add(await ScaleBuild.StartAsync(context, "baseline", baseline, ct));
            }

            builds.Add(await ScaleBuild.StartAsync(context, "sink", context.Aot, ct));

            var samples = new List<ScaleSample>();
            var cells = new List<ScaleCell>();
            var step = 0;
            foreach (var partitions in options.ScalePartitions)
            {
                foreach (var processes in options.ScaleProcesses)
                {
                    for (var b = 0; b < builds.Count; b++)
                    {
                        cells.Add(await RunCellAsync(context, builds[(step + b) % builds.Count], processes, partitions, samples, total, ct));
                    }

                    step++;
                }
            }

            var checks = new List<Check>();
            foreach (var build in builds)
            {
                checks.Add(await build.LandedAsync(context.Engine, ct));
            }

            return new ScaleResult(options.ScaleRecords, options.ValueBytes, [.. cells.OrderBy(c => c.Partitions).ThenBy(c => c.Processes).ThenBy(c => c.Build, StringComparer.Ordinal)], samples, total.Elapsed.TotalSeconds, checks);
        }
        finally
        {
            foreach (var build in builds)
            {
                await build.DisposeAsync();
            }
        }
    }

    /// <summary>The partitions' groups: K consecutive partitions each (the last may be smaller).</summary>
    public static List<int[]> Groups(int partitions, int? perEvent)
    {
        var k = Math.Min(perEvent ?? partitions, partitions);
        return [.. Enumerable.Range(0, (partitions + k - 1) / k).Select(g => Enumerable.Range(g * k, Math.Min(k, partitions - (g * k))).ToArray())];
    }

    private static async Task<ScaleCell> RunCellAsync(BenchContext context, ScaleBuild build, int processes, int partitions, List<ScaleSample> samples, Stopwatch total, CancellationToken ct)
    {
        var engine = context.Engine;
        var functions = build.Functions.Take(processes).ToList();
        var groups = Groups(partitions, context.Options.ScalePartitionsPerEvent);
        var perEvent = groups[0].Length;
        var records = Math.Max(1, context.Options.ScaleRecords / perEvent);
        var before = await SampleAsync(engine, build, total, ct);
        var rowsBefore = await engine.CountAsync($"{build.Db}.{Target}", ct);
        var free = Channel.CreateUnbounded<int[]>();
        foreach (var g in groups)
        {
            free.Writer.TryWrite(g);
        }

        var duration = TimeSpan.FromSeconds(context.Options.ScaleSeconds);
        var times = new List<double>();
        var requests = new List<RequestAnatomy>();
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
                    var s = await SampleAsync(engine, build, total, stopSampling.Token);
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

        // Each worker is one execution environment: it takes a group of partitions no one is invoking, invokes, gives it back.
        var workers = functions.Select(f => Task.Run(async () =>
        {
            while (clock.Elapsed < duration)
            {
                var g = await free.Reader.ReadAsync(ct);
                var (ms, anatomy) = await f.InvokeAsync(build.Events, g, records, ct);
                lock (times)
                {
                    times.Add(ms);
                    requests.Add(anatomy);
                }

                free.Writer.TryWrite(g);
            }
        }, ct)).ToList();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        await stopSampling.CancelAsync();
        await sampler;
        var after = await SampleAsync(engine, build, total, ct);
        samples.Add(after);
        var rows = await engine.CountAsync($"{build.Db}.{Target}", ct) - rowsBefore;
        var (sinkOverEngine, eventBytes) = await ProbeAsync(context, build, groups[0], records, ct);
        return new ScaleCell(
            build.Name,
            functions.Count,
            partitions,
            perEvent,
            records,
            eventBytes,
            seconds,
            times.Count,
            rows,
            times,
            after.TargetBlocks - before.TargetBlocks,
            after.StateBlocks - before.StateBlocks,
            after,
            Math.Max(stateMax, after.StateActiveParts),
            requests,
            sinkOverEngine);
    }

    /// <summary>
    /// Sink / engine at the step's shape: invocations of the first group, each beside the engine inserting the same rows
    /// in one INSERT from a file (as section 2), alternating which goes first. The sink's time includes its proxy.
    /// Also answers the size of the step's events.
    /// </summary>
    private static async Task<(List<double> SinkOverEngine, int EventBytes)> ProbeAsync(BenchContext context, ScaleBuild build, int[] group, int records, CancellationToken ct)
    {
        var ratios = new List<double>();
        var eventBytes = 0;
        for (var i = 0; i < Probes; i++)
        {
            var mskEvent = build.Events.Next(group, records);
            eventBytes = mskEvent.Length;
            var file = Path.Combine(context.Tmp, $"scale-{context.Stamp}-{build.Name}-{i}.jsonl");
            await File.WriteAllBytesAsync(file, Workload.Rows(mskEvent, out _), ct);
            double sink = 0, eng = 0;
            var steps = new List<Func<Task>>
            {
                async () => sink = (await build.Functions[0].InvokeAsync(mskEvent, ct)).Ms,
                async () =>
                {
                    var w = Stopwatch.StartNew();
                    await context.Engine.QueryAsync($"INSERT INTO {build.Db}.{Target}_engine FROM INFILE '{file}' FORMAT JSONEachRow", ct);
                    eng = w.Elapsed.TotalMilliseconds;
                },
            };
            await steps[i % 2]();
            await steps[(i + 1) % 2]();
            File.Delete(file);
            ratios.Add(sink / eng);
        }

        return (ratios, eventBytes);
    }

    private static async Task<ScaleSample> SampleAsync(EngineClient engine, ScaleBuild build, Stopwatch total, CancellationToken ct)
    {
        var db = build.Db;
        var text = await engine.QueryAsync(
            $"SELECT (SELECT count() FROM {db}.{State}), " +
            $"countIf(active AND table = '{State}'), countIf(active AND table = '{Target}'), " +
            $"maxIf(max_block_number, table = '{State}'), maxIf(max_block_number, table = '{Target}') " +
            $"FROM system.parts WHERE database = '{db}' FORMAT TSV",
            ct);
        var f = text.Trim().Split('\t');
        long L(int i) => long.Parse(f[i], CultureInfo.InvariantCulture);
        return new ScaleSample(build.Name, total.Elapsed.TotalSeconds, L(0), (int)L(1), (int)L(2), L(3), L(4));
    }
}
