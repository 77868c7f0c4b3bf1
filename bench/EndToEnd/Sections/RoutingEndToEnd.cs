using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>One routing set-up of section 9: per repetition, its invocation's latency and the bootstrap's CPU time.</summary>
internal sealed record RoutingSetup(string Name, List<double> Ms, List<double> CpuMs);

/// <summary>Section 9's figures: the same records through three bootstraps, each routing differently.</summary>
/// <param name="OneTable">By topic into one table: the bench batch as section 2 sends it.</param>
/// <param name="TopicPerType">By topic into a table per event type: the same records on a topic per type (<see cref="Workload.TopicPerType"/>).</param>
/// <param name="ByField">By the value's <c>event</c> field into a table per type: the bench batch.</param>
internal sealed record RoutingEndToEndResult(int Records, int EventBytes, int TopicPerTypeEventBytes, int Repetitions, RoutingSetup OneTable, RoutingSetup TopicPerType, RoutingSetup ByField, Check Landed)
{
    /// <summary>By field / by topic into the same six tables, per repetition: what reading the field costs.</summary>
    public List<double> FieldOverTopicMs => Ratio(ByField.Ms, TopicPerType.Ms);

    public List<double> FieldOverTopicCpu => Ratio(ByField.CpuMs, TopicPerType.CpuMs);

    /// <summary>By field into six tables / by topic into one, per repetition: what six tables cost over one.</summary>
    public List<double> FieldOverOneTableMs => Ratio(ByField.Ms, OneTable.Ms);

    public List<double> FieldOverOneTableCpu => Ratio(ByField.CpuMs, OneTable.CpuMs);

    private static List<double> Ratio(List<double> a, List<double> b) => [.. a.Zip(b, (x, y) => x / y)];
}

/// <summary>
/// Section 9: what routing by field costs an invocation, the function's whole work on the 6 MB batch. Three AOT
/// bootstraps, each with its own database, get the same records in every repetition (fresh offsets; one warm-up),
/// in rotating order: by field (ROUTES on the value's <c>event</c>, the rules of <see cref="RoutingCost.Router"/>,
/// into a table per type), by topic into the same six tables (the records on a topic per type, TOPIC_TABLES: what
/// users do without content routing), and by topic into one table. By field against by topic into the same tables
/// compares the routing alone: same rows, tables, inserts and state rows. Latency is Runtime API /next → response,
/// CPU the bootstrap's own CPU-time clock. Then checks that every record landed exactly once in each set-up's table.
/// </summary>
internal static class RoutingEndToEnd
{
    public static async Task<RoutingEndToEndResult> RunAsync(BenchContext context, Workload workload, CancellationToken ct)
    {
        var engine = context.Engine;
        var oneDb = await context.CreateDatabaseAsync("route_one", ct);
        var topicDb = await context.CreateDatabaseAsync("route_topic", ct);
        var fieldDb = await context.CreateDatabaseAsync("route_field", ct);
        await engine.QueryAsync(Workload.CreateTable(oneDb, "events"), ct);
        foreach (var type in RoutingCost.EventTypes)
        {
            await engine.QueryAsync(Workload.CreateTable(topicDb, "events_" + type), ct);
            await engine.QueryAsync(Workload.CreateTable(fieldDb, "events_" + type), ct);
        }

        var topicEnv = context.Env(engine.Url, topicDb, "none");
        topicEnv["TOPIC_TABLES"] = RoutingCost.TopicTablesPerType;
        var fieldEnv = context.Env(engine.Url, fieldDb, "none");
        fieldEnv["TOPIC_TABLES"] = null;
        fieldEnv["ROUTES"] = RoutingCost.RoutesJson(RoutingCost.EventTypes, allEvents: false);
        var setups = new[]
        {
            (Setup: new RoutingSetup("by topic, one table", [], []), Env: context.Env(engine.Url, oneDb, "none"), PerType: false),
            (Setup: new RoutingSetup("by topic, a topic per type, six tables", [], []), Env: topicEnv, PerType: true),
            (Setup: new RoutingSetup("by field, six tables", [], []), Env: fieldEnv, PerType: false),
        };
        var emulators = setups.Select(_ => Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromMinutes(2) })).ToArray();
        var functions = setups.Select((s, i) => BootstrapProcess.Start(context.Aot, emulators[i].Endpoint, s.Env)).ToArray();
        var rows = 0L;
        var perTypeBytes = 0;
        try
        {
            var repetitions = context.Options.Repetitions;
            for (var rep = 0; rep <= repetitions; rep++)
            {
                // Fresh offsets per repetition (other sections use batches 0–300); the first repetition warms every bootstrap up.
                var mskEvent = workload.Event(500 + rep);
                var perType = Workload.TopicPerType(mskEvent);
                perTypeBytes = perType.Length;
                rows += workload.Records;
                for (var k = 0; k < setups.Length; k++)
                {
                    var i = (rep + k) % setups.Length;
                    var cpu = ProcessCpu.Ms(functions[i].ProcessId);
                    var ms = await BenchContext.InvokeAsync(emulators[i], functions[i], setups[i].PerType ? perType : mskEvent, ct);
                    cpu = ProcessCpu.Ms(functions[i].ProcessId) - cpu;
                    if (rep > 0)
                    {
                        setups[i].Setup.Ms.Add(ms);
                        setups[i].Setup.CpuMs.Add(cpu);
                    }
                }
            }
        }
        finally
        {
            foreach (var f in functions)
            {
                f.Terminate();
                await f.WaitForExitAsync(TimeSpan.FromSeconds(10));
                f.Dispose();
            }

            foreach (var e in emulators)
            {
                await e.DisposeAsync();
            }
        }

        return new RoutingEndToEndResult(
            workload.Records,
            workload.EventBytes,
            perTypeBytes,
            context.Options.Repetitions,
            setups[0].Setup,
            setups[1].Setup,
            setups[2].Setup,
            await LandedAsync(engine, oneDb, topicDb, fieldDb, rows, ct));
    }

    /// <summary>
    /// Every record once in the one table, and once in the table of its type in both six-table set-ups (per-type counts
    /// equal to the one table's, no offset twice).
    /// </summary>
    private static async Task<Check> LandedAsync(EngineClient engine, string oneDb, string topicDb, string fieldDb, long expected, CancellationToken ct)
    {
        var landed = await engine.CountAsync($"{oneDb}.events", ct);
        var problems = new List<string>();
        long byTopic = 0, byField = 0;
        foreach (var type in RoutingCost.EventTypes)
        {
            var want = await engine.ScalarAsync($"SELECT count() FROM {oneDb}.events WHERE event = '{type}'", ct);
            foreach (var (db, name) in new[] { (topicDb, "by topic"), (fieldDb, "by field") })
            {
                var got = await engine.CountAsync($"{db}.events_{type}", ct);
                var distinct = await engine.ScalarAsync($"SELECT count() FROM (SELECT DISTINCT _topic, _partition, _offset FROM {db}.events_{type} WHERE event = '{type}')", ct);
                if (db == topicDb)
                {
                    byTopic += got;
                }
                else
                {
                    byField += got;
                }

                if (got != want || distinct != got)
                {
                    problems.Add($"{name} events_{type}: {got} rows, {distinct} distinct records of its type, expected {want}");
                }
            }
        }

        var ok = landed == expected && byTopic == expected && byField == expected && problems.Count == 0;
        return new Check(ok, $"routing: every record landed exactly once in one table by topic ({landed}), in the table of its type by topic ({byTopic}) and by field ({byField}; expected {expected} each){(problems.Count == 0 ? string.Empty : ": " + string.Join("; ", problems))}");
    }
}
