using System.Diagnostics;
using System.Globalization;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Runtime;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>
/// Seeded soaks: an adversarial mapping (re-batching, bisects, redeliveries, concurrent duplicates) and injected
/// ClickHouse faults against the real sink and the embedded engine. The seeds come from SOAK_SEEDS ("1-50", or
/// "3,7,11"); the normal test command runs the few listed below. Every run ends with the invariant.
/// </summary>
public class SoakTests(ClickHouseFixture fixture)
{
    public static TheoryData<int> SingleNodeSeeds() => Seeds("11,29");

    public static TheoryData<int, InsertMode> AllFaultSeeds() => InBothModes("3,17");

    public static TheoryData<int> SandboxSeeds() => Seeds("5");

    public static TheoryData<int, InsertMode> TopologySeeds() => InBothModes("7");

    private static bool IsGood(SimRecord r) => r.Value is [(byte)'{', ..] && System.Text.Encoding.UTF8.GetString(r.Value) is var v
        && !v.Contains("not-a-number", StringComparison.Ordinal) && !v.Contains($"\"n\":{SimulatedLog.RejectedN}", StringComparison.Ordinal);

    /// <summary>The faults of one node: refused, answer lost after apply, delayed.</summary>
    [Theory]
    [MemberData(nameof(SingleNodeSeeds))]
    public async Task Soak_SingleNode_EveryOffsetOnce(int seed)
    {
        using var h = await SinkHarness.CreateAsync(fixture, requestTimeout: TimeSpan.FromSeconds(2), faultSeed: seed);
        var random = new Random(seed);
        h.Faults.Delay = TimeSpan.FromMilliseconds(300);
        h.Faults.Decide = _ =>
        {
            lock (random)
            {
                var x = random.NextDouble();
                return x < 0.04 ? Fault.RefuseBeforeSending : x < 0.08 ? Fault.LoseAnswerAfterApplying : x < 0.09 ? Fault.Delay : Fault.None;
            }
        };

        await RunAndCheckAsync(h, seed, new SimulatorOptions { MaxBatchRecords = 40, MaxInvocations = 3000 });
    }

    /// <summary>
    /// Every fault of a real cluster at once: refused, answer lost, delayed, lagging replica, late apply, concurrent
    /// different batches of one partition, on top of re-batching, bisects, redeliveries and concurrent duplicates.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllFaultSeeds))]
    public async Task Soak_AllFaults_EveryOffsetOnceWithOffsetColumnsAndBoundedWithout(int seed, InsertMode mode)
    {
        using var h = await SinkHarness.CreateAsync(fixture, requestTimeout: TimeSpan.FromSeconds(2), faultSeed: seed, insertMode: mode);
        h.Faults.Delay = TimeSpan.FromMilliseconds(300);
        h.Faults.Decide = RealClusterFaults.Seeded(seed);

        await RunAndCheckAsync(h, seed, new SimulatorOptions { MaxBatchRecords = 40, MaxInvocations = 3000, ConcurrentDifferentRatio = double.Parse(Environment.GetEnvironmentVariable("SOAK_CONCURRENT_DIFFERENT") ?? "0.05", CultureInfo.InvariantCulture) });
        Assert.True(h.Faults.LateApplied > 0 && h.Faults.Lagged > 0, $"late {h.Faults.LateApplied}, lagged {h.Faults.Lagged}: the soak injected too few cluster faults to mean anything");
    }

    /// <summary>
    /// Three execution environments of the function, each with its own in-process state cache, take the invocations at
    /// random (as Lambda routes them), under the single-node faults: an environment's cache is stale whenever another
    /// one delivered the partition since, and a failed invocation may be followed by one in the same environment. One
    /// topic per run (a batch with partitions for tables with and without offset columns is not cached): the table
    /// with offset columns, then the one without.
    /// </summary>
    [Theory]
    [MemberData(nameof(SandboxSeeds))]
    public async Task Soak_SeveralExecutionEnvironments_StaleStateCachesLandEveryOffsetOnce(int seed)
    {
        await EnvironmentsSoakAsync(seed, "orders");
        await EnvironmentsSoakAsync(seed, "legacy");
    }

    /// <summary>
    /// The topologies users build (issue #24) under the single-node faults and the adversarial mapping: a Null landing
    /// table with a view, a MergeTree target whose view fails for stretches of the run, a ReplacingMergeTree target,
    /// and a MergeTree without a deduplication window. Each stored table ends with every good offset exactly once.
    /// </summary>
    [Theory]
    [MemberData(nameof(TopologySeeds))]
    public async Task Soak_Topologies_EveryOffsetOnceInEveryStoredTable(int seed, InsertMode mode)
    {
        Topology[] topologies = [Topology.NullLanding(), Topology.MergeTreeWithSwitchedView("switched"), Topology.Replacing(), Topology.MergeTree("nowindow", window: 0)];
        using var h = await TopologyHarness.CreateAsync(fixture, topologies, requestTimeout: TimeSpan.FromSeconds(2), faultSeed: seed, insertMode: mode);
        var random = new Random(seed);
        h.Faults.Delay = TimeSpan.FromMilliseconds(300);
        h.Faults.Decide = _ =>
        {
            lock (random)
            {
                var x = random.NextDouble();
                return x < 0.04 ? Fault.RefuseBeforeSending : x < 0.08 ? Fault.LoseAnswerAfterApplying : x < 0.09 ? Fault.Delay : Fault.None;
            }
        };

        // The view breaks now and then before an insert into its table (at most 5 times) and is fixed a few inserts later.
        var (broken, breaks, toggles) = (false, 0, new Random(seed + 2));
        h.Faults.BeforeSendAsync = async (sql, ct) =>
        {
            if (!sql.Contains("INSERT INTO `" + h.Database + "`.`switched` ", StringComparison.Ordinal))
            {
                return;
            }

            string? statement = null;
            lock (toggles)
            {
                if (broken ? toggles.NextDouble() < 0.3 : breaks < 5 && toggles.NextDouble() < 0.05)
                {
                    broken = !broken;
                    breaks += broken ? 1 : 0;
                    statement = broken ? Topology.BreakView("switched") : Topology.FixView("switched");
                }
            }

            if (statement is not null)
            {
                await h.RunAsync(statement);
            }
        };

        var logs = SimulatedLog.Build(seed, topologies.Select(t => t.Name).ToList(), 3, 150, 0.04);
        var simulator = new EventSourceMappingSimulator(logs, new SimulatorOptions { MaxBatchRecords = 40, MaxInvocations = 3000 }, seed);
        var report = await simulator.RunAsync((payload, _) => h.InvokeAsync(payload, TimeSpan.FromSeconds(1.2)), CancellationToken.None);
        await h.Faults.DrainAsync();

        Assert.True(report.Drained, $"the simulated mapping did not drain: {report}; most frequent errors: " + string.Join(" | ", h.Log.Lines
            .Where(l => l.Level == MskClickHouse.Core.Logging.LogLevel.Error)
            .GroupBy(l => System.Text.RegularExpressions.Regex.Replace(l.Message, "[0-9]+", "N"))
            .OrderByDescending(g => g.Count())
            .Take(3)
            .Select(g => $"{g.Count()}x {g.Last().Message}")));
        Assert.True(h.Faults.Lost + h.Faults.Refused > 10 && breaks > 0, "the soak injected too few faults to mean anything");
        var counts = new List<string>();
        foreach (var t in topologies)
        {
            var good = logs.Where(l => l.Key.Topic == t.Name).SelectMany(l => l.Value).Count(IsGood);
            var tables = t.Stored == t.Landing || t.Name == "landing" ? [t.Stored] : new[] { t.Landing, t.Stored };
            foreach (var table in tables)
            {
                var (rows, offsets, _) = await h.CountsAsync(table);
                counts.Add(string.Create(CultureInfo.InvariantCulture, $"{table} {rows} rows, {offsets} offsets of {good}"));
                if (table == "switched_stored")
                {
                    // A view's rejection of round 0 is covered, seen or unseen, when the table's rows of the range are
                    // known to be round 0's (TopologyTests). What this soak could still produce is the case left open
                    // (docs/exactly-once.md, per topology): a view failing unseen on the first insert of a range planned
                    // to leave out present records (a partition's first batch), or on a fill round after the first
                    // redelivery; the view's table can then miss rows of that range or hold some twice (counted in
                    // PossibleDuplicates). The table itself is exact (asserted above and below); here only that nothing
                    // foreign reached the view's table.
                    Assert.True(offsets <= good, $"{table}: {rows} rows, {offsets} distinct offsets, {good} good records");
                    continue;
                }

                if (table == "nowindow")
                {
                    // Without a deduplication window nothing drops a second insert of the same rows: two deliveries of
                    // one batch running at once (the simulated mapping sends such duplicates) both find the rows absent
                    // and both insert, and an insert the server applies after its invocation gave up lands again
                    // (docs/exactly-once.md, per topology; alarmed as NonDeduplicatingTables). What holds: nothing is lost.
                    Assert.True(offsets == good, $"{table}: {rows} rows, {offsets} distinct offsets, {good} good records");
                    continue;
                }

                Assert.True(rows == good && offsets == good, $"{table}: {rows} rows, {offsets} distinct offsets, {good} good records");
            }
        }

        var bad = logs.Values.SelectMany(r => r).Count(r => !IsGood(r));
        Assert.Equal(bad, await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_dead_letters"));
        Assert.Equal(bad, await h.ScalarAsync($"SELECT uniqExact(topic, partition, offset) FROM {h.Database}.kafka_dead_letters"));
        TestContext.Current.TestOutputHelper?.WriteLine($"topology soak seed {seed}: {report}; faults refused {h.Faults.Refused} lost {h.Faults.Lost} delayed {h.Faults.Delayed}; view broken {breaks} times; {string.Join("; ", counts)}");
    }

    private async Task EnvironmentsSoakAsync(int seed, string topic)
    {
        using var h = await SinkHarness.CreateAsync(fixture, requestTimeout: TimeSpan.FromSeconds(2), faultSeed: seed);
        var random = new Random(seed);
        h.Faults.Delay = TimeSpan.FromMilliseconds(300);
        h.Faults.Decide = _ =>
        {
            lock (random)
            {
                var x = random.NextDouble();
                return x < 0.03 ? Fault.RefuseBeforeSending : x < 0.06 ? Fault.LoseAnswerAfterApplying : x < 0.07 ? Fault.Delay : Fault.None;
            }
        };
        var environments = new List<IInvocationHandler> { h.Handler };
        for (var i = 0; i < 2; i++)
        {
            environments.Add(await MskClickHouse.Core.Hosting.SinkHandlerFactory.CreateAsync(h.Options, h.Gateway, h.Log, h.Metrics, TimeProvider.System, CancellationToken.None));
        }

        var pick = new Random(seed + 1);
        await RunAndCheckAsync(h, seed, new SimulatorOptions { MaxBatchRecords = 10, MaxInvocations = 3000 }, [topic], payload =>
        {
            int i;
            lock (pick)
            {
                // Mostly the environment used last, as Lambda prefers a warm one; sometimes another.
                i = pick.NextDouble() < 0.7 ? 0 : pick.Next(environments.Count);
            }

            return h.InvokeAsync(payload, TimeSpan.FromSeconds(1.2), environments[i]);
        });
        var hits = h.Log.Lines.Count(l => l.Message.StartsWith("state planned from this environment's last write", StringComparison.Ordinal));
        var stale = h.Log.Lines.Count(l => l.Message.StartsWith("state cache stale", StringComparison.Ordinal));
        TestContext.Current.TestOutputHelper?.WriteLine($"state cache ({topic}): {hits} invocations planned from it, {stale} found it stale");
        Assert.True(hits > 10 && stale > 0, $"the soak exercised the state cache too little to mean anything ({topic}: {hits} planned from it, {stale} stale)");
    }

    private static async Task RunAndCheckAsync(SinkHarness h, int seed, SimulatorOptions options, IReadOnlyList<string>? topics = null, Func<byte[], Task<InvocationOutcome>>? invoke = null)
    {
        var started = Stopwatch.GetTimestamp();
        // Bad records of every kind, including ones ClickHouse rejects without naming the row (isolated by halving).
        var logs = SimulatedLog.Build(seed, topics ?? ["orders", "legacy"], 3, 250, 0.04, rejectedByDefault: true);
        var simulator = new EventSourceMappingSimulator(logs, options, seed);

        var report = await simulator.RunAsync((payload, _) => invoke is null ? h.InvokeAsync(payload, TimeSpan.FromSeconds(1.2)) : invoke(payload), CancellationToken.None);
        await h.Faults.DrainAsync();

        Assert.True(report.Drained, $"the simulated mapping did not drain: {report}; most frequent errors: " + string.Join(" | ", h.Log.Lines
            .Where(l => l.Level == MskClickHouse.Core.Logging.LogLevel.Error)
            .GroupBy(l => System.Text.RegularExpressions.Regex.Replace(l.Message, "[0-9]+", "N"))
            .OrderByDescending(g => g.Count())
            .Take(3)
            .Select(g => $"{g.Count()}x {g.Last().Message}")));
        Assert.True(h.Faults.Lost + h.Faults.Refused > 10, "the soak injected too few faults to mean anything");
        var orders = logs.Where(l => l.Key.Topic == "orders").SelectMany(l => l.Value).ToList();
        var legacy = logs.Where(l => l.Key.Topic == "legacy").SelectMany(l => l.Value).ToList();
        var events = await h.ScalarAsync($"SELECT count() FROM {h.Database}.events");
        var plain = await h.ScalarAsync($"SELECT count() FROM {h.Database}.plain");
        var possible = h.Metrics.Sum(m => m.PossibleDuplicates);
        var dryRun = await h.ScalarAsync($"SELECT countIf(error LIKE '%found by a dry run%') FROM {h.Database}.kafka_dead_letters");
        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"soak seed {seed}: {report}; records {orders.Count + legacy.Count}; faults refused {h.Faults.Refused} lost {h.Faults.Lost} delayed {h.Faults.Delayed} late {h.Faults.LateApplied} lagged {h.Faults.Lagged} lag-flushes {h.Faults.LagFlushes}; events {events} of {orders.Count(IsGood)} good; plain {plain} of {legacy.Count(IsGood)} good, possible duplicates {possible}; rejected without a row and isolated by a dry run {dryRun}; {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        if (Environment.GetEnvironmentVariable("SOAK_REPORT") is { Length: > 0 } reportFile)
        {
            await File.AppendAllTextAsync(reportFile, line + Environment.NewLine, TestContext.Current.CancellationToken);
        }


        if (plain > legacy.Count(IsGood) + possible && Environment.GetEnvironmentVariable("SOAK_REPORT") is { Length: > 0 } diag)
        {
            var dups = await h.TextAsync($"SELECT arrayStringConcat(groupArray(id), ' ') FROM (SELECT id FROM {h.Database}.plain GROUP BY id HAVING count() > 1 ORDER BY id)");
            var lines = string.Join(Environment.NewLine, h.Log.Lines.Where(l => l.Fields.Topic == "legacy").Select(l => $"  {l.Level} {l.Fields.Partition} {l.Fields.Offset}-{l.Fields.LastOffset} {l.Message}"));
            await File.AppendAllTextAsync(diag, $"seed {seed} uncounted duplicates: {dups}{Environment.NewLine}{lines}{Environment.NewLine}", TestContext.Current.CancellationToken);
        }

        Assert.Equal(orders.Count(IsGood), events);
        Assert.Equal(orders.Count(IsGood), await h.ScalarAsync($"SELECT uniqExact(_topic, _partition, _offset) FROM {h.Database}.events"));
        var bad = orders.Count + legacy.Count - orders.Count(IsGood) - legacy.Count(IsGood);
        Assert.Equal(bad, await h.ScalarAsync($"SELECT uniqExact(topic, partition, offset) FROM {h.Database}.kafka_dead_letters"));
        var badOrders = orders.Count - orders.Count(IsGood);
        Assert.Equal(badOrders, await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_dead_letters WHERE topic = 'orders'"));

        // The table without offset columns: every record present, and any extra copy counted as a possible duplicate.
        Assert.Equal(legacy.Count(IsGood), await h.ScalarAsync($"SELECT uniqExact(id) FROM {h.Database}.plain"));
        Assert.InRange(plain, legacy.Count(IsGood), legacy.Count(IsGood) + possible);
    }

    /// <summary>Every seed with synchronous inserts, and the first one again with INSERT_MODE=async (docs/exactly-once.md, "Insert modes").</summary>
    private static TheoryData<int, InsertMode> InBothModes(string fallback)
    {
        var seeds = SeedList(fallback);
        var data = new TheoryData<int, InsertMode>();
        foreach (var seed in seeds)
        {
            data.Add(seed, InsertMode.Sync);
        }

        foreach (var seed in seeds.Take(1))
        {
            data.Add(seed, InsertMode.Async);
        }

        return data;
    }

    private static TheoryData<int> Seeds(string fallback)
    {
        var data = new TheoryData<int>();
        foreach (var seed in SeedList(fallback))
        {
            data.Add(seed);
        }

        return data;
    }

    private static List<int> SeedList(string fallback)
    {
        var text = Environment.GetEnvironmentVariable("SOAK_SEEDS") is { Length: > 0 } s ? s : fallback;
        var data = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0)
            {
                for (var i = int.Parse(part[..dash], CultureInfo.InvariantCulture); i <= int.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture); i++)
                {
                    data.Add(i);
                }
            }
            else
            {
                data.Add(int.Parse(part, CultureInfo.InvariantCulture));
            }
        }

        return data;
    }
}
