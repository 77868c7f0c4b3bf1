using System.Globalization;
using System.Text;
using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.Simulation;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.LocalRun;

/// <summary>
/// --routing: content routing and fan-out (ROUTES). Topic <c>events</c> carries click, view, buy and signup events,
/// routed by the <c>type</c> field into events_click, events_view and events_buy, and whole into all_events; topic
/// <c>audit</c> is routed by its <c>region</c> header into audit_eu and by key prefix <c>tenant-</c> into audit_tenants.
/// Signups go to all_events only; audit records of neither kind match no rule: dead-lettered with the reason. The batch is delivered,
/// delivered again, and a re-batched subset of it once more; every table must hold each record it matches exactly once.
/// The expected counts come from the records here, not from the sink's router. Self-contained like the replay demo:
/// its own tables, its own sink process, direct to ClickHouse, so it changes nothing the checks before it counted.
/// </summary>
internal static class RoutingDemo
{
    public const string Routes = """
        [{"topic":"events","table":"events_click","where":{"field":"type","equals":"click"}},
         {"topic":"events","table":"events_view","where":{"field":"type","equals":"view"}},
         {"topic":"events","table":"events_buy","where":{"field":"type","equals":"buy"}},
         {"topic":"events","table":"all_events"},
         {"topic":"audit","table":"audit_eu","where":{"header":"region","equals":"eu"}},
         {"topic":"audit","table":"audit_tenants","where":{"key":"prefix","value":"tenant-"}}]
        """;

    private static readonly string[] Types = ["click", "view", "buy", "click", "signup"];

    /// <summary>The demo's records: two partitions of events (type cycling), one of audit (region and key varying).</summary>
    public static List<SimRecord> Records()
    {
        var records = new List<SimRecord>();
        for (var partition = 0; partition < 2; partition++)
        {
            for (var offset = 0; offset < 50; offset++)
            {
                var type = Types[(offset + partition) % Types.Length];
                records.Add(Record("events", partition, offset, $$"""{"id":{{(partition * 1000) + offset}},"type":"{{type}}","page":"/p/{{offset % 7}}"}""", "user-" + offset, []));
            }
        }

        for (var offset = 0; offset < 40; offset++)
        {
            var key = offset % 3 == 0 ? "tenant-" + offset : "user-" + offset;
            records.Add(Record("audit", 0, offset, $$"""{"id":{{offset}},"action":"login"}""", key, [("region", offset % 2 == 0 ? "eu" : "us")]));
        }

        return records;
    }

    /// <summary>What each table must hold, and how many records no rule matches, from the records themselves.</summary>
    public static (Dictionary<string, long> Tables, long Unrouted) Expected(List<SimRecord> records)
    {
        string? TypeOf(SimRecord r) => Encoding.UTF8.GetString(r.Value!).Split("\"type\":\"") is [_, var rest] ? rest[..rest.IndexOf('"', StringComparison.Ordinal)] : null;
        bool Eu(SimRecord r) => r.Headers.Any(h => h.Key == "region" && Encoding.UTF8.GetString(h.Value) == "eu");
        bool Tenant(SimRecord r) => Encoding.UTF8.GetString(r.Key!).StartsWith("tenant-", StringComparison.Ordinal);
        var events = records.Where(r => r.Topic == "events").ToList();
        var audit = records.Where(r => r.Topic == "audit").ToList();
        var tables = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["events_click"] = events.Count(r => TypeOf(r) == "click"),
            ["events_view"] = events.Count(r => TypeOf(r) == "view"),
            ["events_buy"] = events.Count(r => TypeOf(r) == "buy"),
            ["all_events"] = events.Count,
            ["audit_eu"] = audit.Count(Eu),
            ["audit_tenants"] = audit.Count(Tenant),
        };
        // all_events takes every event (signups too): only audit records of neither kind have no route.
        return (tables, audit.Count(r => !Eu(r) && !Tenant(r)));
    }

    public static async Task<bool> RunAsync(ClickHouseEngine engine, string database, string bootstrap, Dictionary<string, string?> runEnvironment, TextWriter output, CancellationToken ct)
    {
        var records = Records();
        var (expected, unrouted) = Expected(records);
        await output.WriteLineAsync();
        await output.WriteLineAsync("routing demo (--routing): ROUTES = " + string.Join(' ', Routes.Split('\n', StringSplitOptions.TrimEntries)));
        foreach (var table in expected.Keys)
        {
            await engine.QueryAsync(MetadataDdl.Table(database, table, "id UInt64, type String", 10000), ct);
        }

        var env = new Dictionary<string, string?>(runEnvironment)
        {
            ["CLICKHOUSE_URL"] = engine.Url.GetLeftPart(UriPartial.Authority),
            ["VALUE_FORMAT"] = "json",
            ["SINK_MODE"] = null,
            ["ROUTES"] = Routes,
            ["UNROUTED"] = "dead-letter",
        };
        var rebatched = records.Where(r => r.Offset is >= 10 and < 30).ToList();
        await using (var api = Emulator.Start())
        {
            using var sink = BootstrapProcess.Start(bootstrap, api.Endpoint, env);
            try
            {
                foreach (var (what, batch) in new[] { ("batch", records), ("the same batch again", records), ("a re-batched subset (offsets 10-29)", rebatched) })
                {
                    var result = await api.EnqueueAsync(KafkaEventWriter.Write(batch), TimeSpan.FromMinutes(2), cancellationToken: ct);
                    var answer = result.Success ? Encoding.UTF8.GetString(result.Body) : $"{result.ErrorType}: {result.ErrorMessage}";
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  delivered {what}: {batch.Count} records, answer {answer}"));
                    if (!result.Success || answer.Contains("itemIdentifier", StringComparison.Ordinal))
                    {
                        await output.WriteLineAsync($"FAILED routing: the sink did not deliver {what}");
                        return false;
                    }
                }
            }
            finally
            {
                sink.Terminate();
            }
        }

        var ok = true;
        foreach (var (table, count) in expected)
        {
            var rows = await ScalarAsync(engine, $"SELECT count() FROM {database}.{table}", ct);
            var distinct = await ScalarAsync(engine, $"SELECT uniqExact(_topic, _partition, _offset) FROM {database}.{table}", ct);
            ok &= rows == count && distinct == count;
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {table}: {rows} rows, {distinct} distinct offsets (expected {count})"));
        }

        var letters = await ScalarAsync(engine, $"SELECT count() FROM {database}.{DemoTables.DeadLetters} WHERE topic IN ('events', 'audit')", ct);
        var reasons = await ScalarAsync(engine, $"SELECT countIf(position(error, 'unrouted: no rule of topic') > 0) FROM {database}.{DemoTables.DeadLetters} WHERE topic IN ('events', 'audit')", ct);
        var sample = (await engine.QueryAsync($"SELECT any(error) FROM {database}.{DemoTables.DeadLetters} WHERE topic = 'audit' FORMAT TSVRaw", ct)).Trim();
        ok &= letters == unrouted && reasons == unrouted;
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  unrouted: {letters} dead letters (expected {unrouted}), e.g. {sample}"));
        await output.WriteLineAsync((ok ? "OK    " : "FAILED ") + "routing: each record landed exactly once in every table it matches, after a redelivery and a re-batched subset; unrouted records dead-lettered with the reason");
        return ok;
    }

    private static SimRecord Record(string topic, int partition, long offset, string value, string key, (string Name, string Value)[] headers) => new(
        topic, partition, offset, 1_764_082_800_000 + offset, Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(value),
        headers.Select(h => new KeyValuePair<string, byte[]>(h.Name, Encoding.UTF8.GetBytes(h.Value))).ToList());

    private static async Task<long> ScalarAsync(ClickHouseEngine engine, string sql, CancellationToken ct) =>
        long.Parse((await engine.QueryAsync(sql, ct)).Trim(), CultureInfo.InvariantCulture);
}
