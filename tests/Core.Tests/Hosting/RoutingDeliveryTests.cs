using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Hosting;

/// <summary>
/// ROUTES end to end through the real handler and the embedded engine: each record lands exactly once in every table
/// it matches (fan-out), also after a redelivery, a re-batched subset, lost answers and the adversarial mapping; unrouted
/// records are dead-lettered with the reason, or skipped and counted; a failing table does not re-insert the others.
/// </summary>
public sealed class RoutingDeliveryTests(ClickHouseFixture fixture)
{
    private static List<SimRecord> Events(int partitions = 2, int records = 60) =>
        [.. Enumerable.Range(0, partitions).SelectMany(p => Enumerable.Range(0, records).Select(o => RoutingSink.Event(p, o)))];

    private static List<SimRecord> AuditRecords(int records = 45) => [.. Enumerable.Range(0, records).Select(o => RoutingSink.Audit(o))];

    private static bool Good(SimRecord r) => !System.Text.Encoding.UTF8.GetString(r.Value!).Contains("not-a-number", StringComparison.Ordinal);

    private static string TypeOf(SimRecord r) => RoutingSink.TypeOf(r.Partition, r.Offset);

    private static bool Eu(SimRecord r) => r.Headers.Any(h => h.Key == "region" && h.Value is [(byte)'e', (byte)'u']);

    private static bool Tenant(SimRecord r) => System.Text.Encoding.UTF8.GetString(r.Key!).StartsWith("tenant-", StringComparison.Ordinal);

    /// <summary>Which records each table must hold, from the records themselves (not from the sink's router).</summary>
    private static Dictionary<string, List<SimRecord>> Expected(List<SimRecord> events, List<SimRecord> audit) => new()
    {
        ["clicks"] = events.Where(r => TypeOf(r) == "click").ToList(),
        ["plain_clicks"] = events.Where(r => TypeOf(r) == "click").ToList(),
        ["views"] = events.Where(r => TypeOf(r) == "view").ToList(),
        ["buys"] = events.Where(r => TypeOf(r) == "buy").ToList(),
        ["all_events"] = events,
        ["audit_eu"] = audit.Where(Eu).ToList(),
        ["audit_tenants"] = audit.Where(Tenant).ToList(),
    };

    /// <summary>Every table holds each good record it matches once; every bad one is dead-lettered once per table; unrouted ones once.</summary>
    private static async Task AssertEachRecordOncePerTableAsync(RoutingSink h, List<SimRecord> events, List<SimRecord> audit, bool unroutedDeadLettered = true)
    {
        var db = h.Database;
        foreach (var (table, records) in Expected(events, audit))
        {
            var good = records.Where(Good).ToList();
            Assert.Equal((table, (long)good.Count), (table, await h.ScalarAsync($"SELECT count() FROM {db}.{table}")));
            Assert.Equal((table, (long)good.Sum(r => r.Offset)), (table, await h.ScalarAsync($"SELECT toInt64(sum(id)) FROM {db}.{table}")));
            var letters = records.Count(r => !Good(r));
            Assert.Equal((table, (long)letters), (table, await h.ScalarAsync($"SELECT count() FROM {db}.kafka_dead_letters WHERE target_table = '{db}.{table}'")));
            Assert.Equal((table, (long)letters), (table, await h.ScalarAsync($"SELECT uniqExact(topic, partition, offset) FROM {db}.kafka_dead_letters WHERE target_table = '{db}.{table}'")));
        }

        // all_events takes every event: only audit records of neither region eu nor a tenant- key are unrouted.
        var unrouted = audit.Count(r => !Eu(r) && !Tenant(r));
        var expectedLetters = unroutedDeadLettered ? unrouted : 0;
        Assert.Equal(expectedLetters, await h.ScalarAsync($"SELECT count() FROM {db}.kafka_dead_letters WHERE position(error, 'unrouted: no rule of topic') > 0"));
        Assert.Equal(expectedLetters, await h.ScalarAsync($"SELECT uniqExact(topic, partition, offset) FROM {db}.kafka_dead_letters WHERE position(error, 'unrouted: no rule of topic') > 0"));
    }

    [Fact]
    public async Task ByFieldHeaderAndKey_EachRecordOncePerTable_AfterRedeliveryAndARebatchedSubset()
    {
        using var h = await RoutingSink.CreateAsync(fixture);
        var events = Events();
        var audit = AuditRecords();
        var all = events.Concat(audit).ToList();

        Assert.Empty((await h.InvokeAsync(all)).Failures);
        Assert.Empty((await h.InvokeAsync(all)).Failures);
        Assert.Empty((await h.InvokeAsync(all.Where(r => r.Offset is >= 13 and < 41))).Failures);
        Assert.Empty((await h.InvokeAsync(all.Where(r => r.Offset is >= 5 and < 9))).Failures);

        await AssertEachRecordOncePerTableAsync(h, events, audit);
        var reason = await h.TextAsync($"SELECT error FROM {h.Database}.kafka_dead_letters WHERE topic = 'audit' AND offset = 1 FORMAT TSVRaw");
        Assert.Equal("unrouted: no rule of topic 'audit' matches this record (header 'region' = 'us', key = 'user-1'): add a rule for it to ROUTES, or set UNROUTED=skip", reason);
        Assert.Equal($"{h.Database}.(unrouted)", await h.TextAsync($"SELECT target_table FROM {h.Database}.kafka_dead_letters WHERE topic = 'audit' AND offset = 1"));
    }

    [Fact]
    public async Task UnroutedSkip_SkipsAndCountsTheRecordsNoRuleMatches()
    {
        using var h = await RoutingSink.CreateAsync(fixture, unrouted: "skip");
        var events = Events(partitions: 1, records: 20);
        var audit = AuditRecords(12);

        Assert.Empty((await h.InvokeAsync(events.Concat(audit))).Failures);

        await AssertEachRecordOncePerTableAsync(h, events, audit, unroutedDeadLettered: false);
        Assert.Equal(audit.Count(r => !Eu(r) && !Tenant(r)), h.Metrics.Sum(m => m.UnroutedSkipped));
    }

    [Fact]
    public async Task AFailingTable_IsRetriedAlone_TheOtherTablesAreNotInsertedAgain()
    {
        using var h = await RoutingSink.CreateAsync(fixture);
        // Good records only: a redelivered range whose rows the server rejected is sent again by the fill path (and
        // rejected again: one dead letter), which is not what this test looks at.
        var events = Events(partitions: 1, records: 30).Where(Good).ToList();
        h.Faults.Decide = r => FaultInjectingHandler.IsInsert(r) && FaultInjectingHandler.SqlText(r).Contains("`views`", StringComparison.Ordinal) ? Fault.RefuseBeforeSending : Fault.None;

        var first = await h.InvokeAsync(events, timeout: TimeSpan.FromSeconds(3));
        Assert.Equal([("events-0", 0L)], first.Failures);
        Assert.Equal(0, await h.ScalarAsync($"SELECT count() FROM {h.Database}.views"));

        // The tables the first invocation completed (the others may have met its deadline while views was retried).
        var complete = new List<string>();
        foreach (var (table, records) in Expected(events, []).Where(e => e.Key is not ("views" or "audit_eu" or "audit_tenants")))
        {
            if (await h.ScalarAsync($"SELECT count() FROM {h.Database}.{table}") == records.Count(Good))
            {
                complete.Add(table);
            }
        }

        Assert.NotEmpty(complete);

        var inserts = new List<string>();
        h.Faults.Decide = r =>
        {
            if (FaultInjectingHandler.IsInsert(r))
            {
                lock (inserts)
                {
                    inserts.Add(FaultInjectingHandler.SqlText(r));
                }
            }

            return Fault.None;
        };
        Assert.Empty((await h.InvokeAsync(events)).Failures);

        await AssertEachRecordOncePerTableAsync(h, events, []);
        var again = inserts.Where(sql => complete.Any(t => sql.Contains($"`{t}`", StringComparison.Ordinal))).ToList();
        Assert.True(again.Count == 0, "inserted again into a complete table:\n" + string.Join("\n", again));
        Assert.Contains(inserts, sql => sql.Contains("`views`", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LostAnswersOnEveryTable_RetryLandsOncePerTable()
    {
        using var h = await RoutingSink.CreateAsync(fixture);
        var events = Events(partitions: 1, records: 40);
        var lost = 0;
        h.Faults.Decide = r => FaultInjectingHandler.IsInsert(r) && Interlocked.Increment(ref lost) % 3 == 1 ? Fault.LoseAnswerAfterApplying : Fault.None;

        for (var i = 0; i < 4; i++)
        {
            await h.InvokeAsync(events);
        }

        h.Faults.Decide = _ => Fault.None;
        Assert.Empty((await h.InvokeAsync(events)).Failures);
        Assert.True(h.Faults.Lost > 0);
        await AssertEachRecordOncePerTableAsync(h, events, []);
    }

    [Fact]
    public async Task AdversarialMapping_RebatchingBisectsRedeliveriesAndConcurrentDuplicates_LandsOncePerTable()
    {
        using var h = await RoutingSink.CreateAsync(fixture);
        var events = Events(partitions: 2, records: 120);
        var audit = AuditRecords(90);
        var logs = events.Concat(audit).GroupBy(r => (r.Topic, r.Partition)).ToDictionary(g => g.Key, g => (IReadOnlyList<SimRecord>)g.ToList());
        h.Faults.Random = new Random(5).NextDouble;
        var faulty = 0;
        h.Faults.Decide = r => FaultInjectingHandler.IsInsert(r) && Interlocked.Increment(ref faulty) % 7 == 3 ? Fault.LoseAnswerAfterApplying : Fault.None;
        var simulator = new EventSourceMappingSimulator(logs, new SimulatorOptions { MaxBatchRecords = 37, RedeliverRatio = 0.3, ConcurrentDuplicateRatio = 0.2 }, seed: 11);

        var report = await simulator.RunAsync(async (payload, _) =>
        {
            try
            {
                return new InvocationOutcome(true, await HandleAsyncFor(h, payload));
            }
            catch (Exception e) when (e is Errors.SinkException or OperationCanceledException)
            {
                return InvocationOutcome.FunctionError;
            }
        }, TestContext.Current.CancellationToken);

        Assert.True(report.Drained, report.ToString());
        Assert.True(report.Redeliveries > 0 && report.ConcurrentDuplicates > 0, report.ToString());
        await AssertEachRecordOncePerTableAsync(h, events, audit);
    }

    private static Task<List<(string MapKey, long Offset)>> HandleAsyncFor(RoutingSink h, byte[] payload) => h.HandleRawAsync(payload);
}
