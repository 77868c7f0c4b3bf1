using System.Globalization;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>One build of the scale simulation: its database, its events, its processes (each behind a recording proxy).</summary>
internal sealed class ScaleBuild : IAsyncDisposable
{
    private ScaleBuild(string name, string db, ScaleEvents events)
    {
        Name = name;
        Db = db;
        Events = events;
    }

    public string Name { get; }

    public string Db { get; }

    public ScaleEvents Events { get; }

    public List<ScaleFunction> Functions { get; } = [];

    public static async Task<ScaleBuild> StartAsync(BenchContext context, string name, string bootstrap, CancellationToken ct)
    {
        var options = context.Options;
        var db = await context.CreateDatabaseAsync("scale_" + name, ct);
        await context.Engine.QueryAsync(Workload.CreateTable(db, ScaleSection.Target), ct);
        await context.Engine.QueryAsync(Workload.CreateTable(db, ScaleSection.Target + "_engine"), ct);
        var build = new ScaleBuild(name, db, new ScaleEvents(options.ScalePartitions.Max(), options.ScaleRecords, options.ValueBytes));
        for (var i = 0; i < options.ScaleProcesses.Max(); i++)
        {
            build.Functions.Add(ScaleFunction.Start(context, bootstrap, db));
        }

        // Init of every process (connect, create tables) before the clock starts.
        await Task.WhenAll(build.Functions.Select(f => f.Emulator.FirstNextRequest.WaitAsync(TimeSpan.FromSeconds(60), ct)));
        return build;
    }

    public async Task<Check> LandedAsync(EngineClient engine, CancellationToken ct)
    {
        var sent = Events.RecordsSent;
        var landed = await engine.CountAsync($"{Db}.{ScaleSection.Target}", ct);
        var distinct = long.Parse((await engine.QueryAsync($"SELECT uniqExact(_partition, _offset) FROM {Db}.{ScaleSection.Target}", ct)).Trim(), CultureInfo.InvariantCulture);
        return new Check(landed == sent && distinct == sent, $"scale ({Name}): every record landed exactly once (sent {sent}, rows {landed}, distinct offsets {distinct})");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var f in Functions)
        {
            await f.DisposeAsync();
        }
    }
}
