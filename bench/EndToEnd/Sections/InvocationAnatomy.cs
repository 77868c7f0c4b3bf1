using System.Globalization;
using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>One invocation's requests (as the proxy saw them) and the parts it created per table (block numbers used).</summary>
internal sealed record InvocationRecord(RequestAnatomy Requests, IReadOnlyDictionary<string, long> PartsByTable)
{
    public int Inserts(string table) => Requests.InsertsByTable.GetValueOrDefault(table);

    public long Parts(string table) => PartsByTable.GetValueOrDefault(table);
}

/// <summary>
/// What one invocation sends and writes: the AOT bootstrap behind a recording proxy, alone in its own database, one
/// warm-up batch and then fresh batches one at a time, with each table's highest block number read before and after
/// each. Kept apart from the timed rotation, whose sink talks to the engine directly (the proxy's copying is not in
/// section 2's times).
/// </summary>
internal static class InvocationAnatomy
{
    public static async Task<List<InvocationRecord>> RunAsync(BenchContext context, Func<int, byte[]> events, int invocations, CancellationToken ct)
    {
        var engine = context.Engine;
        var db = await context.CreateDatabaseAsync("anatomy", ct);
        await engine.QueryAsync(Workload.CreateTable(db, "events"), ct);
        await using var proxy = new CountingProxy(engine.Url.Port);
        await using var emulator = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromMinutes(2) });
        using var function = BootstrapProcess.Start(context.Aot, emulator.Endpoint, context.Env(new Uri($"http://127.0.0.1:{proxy.Port}"), db, "none"));
        var records = new List<InvocationRecord>();
        try
        {
            for (var i = 0; i <= invocations; i++)
            {
                var before = await BlocksAsync(engine, db, ct);
                proxy.TakeExchanges();
                await BenchContext.InvokeAsync(emulator, function, events(i), ct);
                var requests = RoundTrips.Of(proxy.TakeExchanges());
                var after = await BlocksAsync(engine, db, ct);
                if (i > 0)
                {
                    records.Add(new InvocationRecord(requests, after.ToDictionary(a => a.Key, a => a.Value - before.GetValueOrDefault(a.Key), StringComparer.Ordinal)));
                }
            }
        }
        finally
        {
            function.Terminate();
            await function.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        return records;
    }

    /// <summary>Highest block number per table of the database (one is used per insert per table partition; merges use none).</summary>
    public static async Task<Dictionary<string, long>> BlocksAsync(EngineClient engine, string db, CancellationToken ct)
    {
        var text = await engine.QueryAsync($"SELECT table, max(max_block_number) FROM system.parts WHERE database = '{db}' GROUP BY table FORMAT TSV", ct);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('\t'))
            .ToDictionary(f => f[0], f => long.Parse(f[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);
    }
}
