using MskClickHouse.Bench.EndToEnd.Report;
using MskClickHouse.Bench.EndToEnd.Sections;
using MskClickHouse.RuntimeApiEmulator;

namespace MskClickHouse.Bench.EndToEnd;

using EmbeddedClickHouse = MskClickHouse.DevHarness.EmbeddedClickHouse;

/// <summary>
/// ./bench.sh: decode/encode in-process, then end to end through the Native AOT bootstrap and the Runtime API emulator
/// into the embedded ClickHouse against the engine's own ingest of the same rows and the protocol floor, cold start
/// (AOT vs JIT), memory, request compression on the wire, a cost model, where the time goes. Each section measures
/// into a record; <see cref="MarkdownReport"/> prints it and <see cref="JsonReport"/> writes it. Exit 0 ok, 1 a check
/// failed, 2 bad usage or environment.
/// </summary>
public static class BenchRunner
{
    public static readonly string[] Sections =
    [
        "## 1. Decode and encode (in-process)",
        "## 2. End to end per invocation vs the engine's own ingest and the protocol floor",
        "## 3. Cold start",
        "## 4. Memory",
        "## 5. Request compression",
        "## 6. Cost per million records",
        "## 7. Where the time goes (in-process handler)",
        "## 8. Scale: concurrent invocations over many partitions",
        "## 9. ROUTES end to end: the 6 MB batch routed by field vs by topic",
    ];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            if (e.Message != "usage")
            {
                await error.WriteLineAsync("error: " + e.Message);
            }

            await error.WriteLineAsync(BenchOptions.Usage);
            return 2;
        }

        try
        {
            return await ExecuteAsync(options, output, error, ct);
        }
        catch (Exception e) when (e is InvalidOperationException or EngineQueryException)
        {
            await error.WriteLineAsync("error: " + e.Message);
            return 2;
        }
    }

    private static async Task<int> ExecuteAsync(BenchOptions options, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var root = BootstrapPublisher.FindRepositoryRoot();
        var outputPath = options.Output ?? Path.Combine(root, "artifacts", "bench", "results.json");
        var aot = options.AotBootstrap ?? await BootstrapPublisher.PublishAsync(root, Path.Combine(root, "artifacts", "bench", "aot"), ["-r", "linux-x64"], error, ct);
        var jit = !options.Runs(BenchSection.ColdStart) ? null
            : options.JitBootstrap ?? await BootstrapPublisher.PublishAsync(root, Path.Combine(root, "artifacts", "bench", "jit"), ["-p:PublishAot=false"], error, ct);

        EmbeddedClickHouse? embedded = null;
        if (options.ClickHouseUrl is null)
        {
            await error.WriteLineAsync("starting the embedded ClickHouse ...");
            embedded = await EmbeddedClickHouse.StartAsync(cancellationToken: ct);
        }

        var loadStart = BenchContext.LoadAverage();
        var md = new MarkdownReport(output);
        var json = new JsonReport();
        var checks = new List<Check>();
        try
        {
            using var engine = embedded is not null
                ? new EngineClient(embedded.BaseUri, embedded.User, embedded.Password)
                : new EngineClient(options.ClickHouseUrl!, options.ClickHouseUser, options.ClickHousePassword);
            var version = (await engine.QueryAsync("SELECT version()", ct)).Trim();
            var context = new BenchContext(options, engine, root, aot, jit, error);
            var workload = new Workload(options.Records, options.ValueBytes);
            json.Machine("chDB " + version + (embedded is not null ? " (embedded, HTTP interface)" : " at " + engine.Url));
            md.Header(version, options.Repetitions);
            json.Load("start", loadStart);

            if (options.Runs(BenchSection.Decode))
            {
                var decode = DecodeSection.Run(options);
                md.Decode(decode);
                json.Decode(decode);
                var unknownFields = UnknownFieldsCost.Run(options);
                md.UnknownFieldsCost(unknownFields);
                json.UnknownFieldsCost(unknownFields);
                var routing = RoutingCost.Run(options, workload);
                md.RoutingCost(routing);
                json.RoutingCost(routing);
                await output.FlushAsync(ct);
            }

            EndToEndResult? e2e = null;
            if (options.Runs(BenchSection.EndToEnd))
            {
                var before = BenchContext.LoadAverage();
                e2e = await EndToEndSection.RunAsync(context, workload, ct);
                md.EndToEnd(e2e);
                md.Load(before, BenchContext.LoadAverage());
                json.EndToEnd(e2e);
                json.Load("end_to_end", before, BenchContext.LoadAverage());
                checks.Add(e2e.Landed);
            }

            if (options.Runs(BenchSection.ColdStart))
            {
                var cold = await ColdStartSection.RunAsync(context, ct);
                md.ColdStart(cold);
                json.ColdStart(cold);
            }

            InProcessResult? inProcess = null;
            if (options.Runs(BenchSection.Memory) || options.Runs(BenchSection.Breakdown))
            {
                inProcess = await InProcessRun.RunAsync(context, workload, ct);
            }

            if (options.Runs(BenchSection.Memory) && e2e is not null && inProcess is not null)
            {
                var memory = MemorySection.Build(context, e2e, inProcess);
                md.Memory(memory);
                json.Memory(memory);
            }

            CompressionResult? compression = null;
            if (options.Runs(BenchSection.Compression))
            {
                compression = await CompressionSection.RunAsync(context, workload, ct);
                md.Compression(compression);
                json.Compression(compression);
            }

            if (options.Runs(BenchSection.Cost) && e2e is not null && compression is not null)
            {
                var cost = CostSection.Build(e2e, compression);
                md.Cost(cost);
                json.Cost(cost);
            }

            if (options.Runs(BenchSection.Breakdown) && inProcess is not null)
            {
                var breakdown = BreakdownSection.Build(inProcess);
                md.Breakdown(breakdown);
                json.Breakdown(breakdown);
            }

            if (options.Runs(BenchSection.Scale))
            {
                var before = BenchContext.LoadAverage();
                var scale = await ScaleSection.RunAsync(context, ct);
                md.Scale(scale);
                md.Load(before, BenchContext.LoadAverage());
                json.Scale(scale);
                json.Load("scale", before, BenchContext.LoadAverage());
                checks.AddRange(scale.Landed);
            }

            if (options.Runs(BenchSection.Routing))
            {
                var before = BenchContext.LoadAverage();
                var routing = await RoutingEndToEnd.RunAsync(context, workload, ct);
                md.RoutingEndToEnd(routing);
                md.Load(before, BenchContext.LoadAverage());
                json.RoutingEndToEnd(routing);
                json.Load("routing_end_to_end", before, BenchContext.LoadAverage());
                checks.Add(routing.Landed);
            }
        }
        finally
        {
            if (embedded is not null)
            {
                await embedded.DisposeAsync();
            }
        }

        var loadEnd = BenchContext.LoadAverage();
        json.Load("end", loadEnd);
        await output.WriteLineAsync($"Load average (1, 5, 15 min) at the start of the run: {loadStart}; at its end: {loadEnd}.");
        await json.WriteAsync(outputPath, ct);
        await output.WriteLineAsync($"results: {outputPath}");
        return checks.All(c => c.Ok) ? 0 : 1;
    }
}
