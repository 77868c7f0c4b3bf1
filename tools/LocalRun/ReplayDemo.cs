using System.Globalization;
using System.Text;
using System.Text.Json;
using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.LocalRun;

/// <summary>
/// The replay demo (#17): a topic whose table has the wrong type for a field dead-letters those records; ALTER TABLE
/// fixes the type; the replay function (the same bootstrap, SINK_MODE=replay) is invoked twice at once and once more,
/// and every record is in the table once. Self-contained: its own table, its own sink and replay processes, direct to
/// ClickHouse and with VALUE_FORMAT=json whatever the run's options, so it changes nothing the checks before it counted.
/// </summary>
internal static class ReplayDemo
{
    private const string Table = "payments";

    public static async Task<bool> RunAsync(ClickHouseEngine engine, string database, string bootstrap, Dictionary<string, string?> runEnvironment, TextWriter output, CancellationToken ct)
    {
        await output.WriteLineAsync();
        await output.WriteLineAsync($"replay demo: {database}.{Table} has id UInt32; records 1 and 4 of topic {Table} send an id like \"P-1\"");
        await engine.QueryAsync(
            $"CREATE TABLE {database}.{Table} (id UInt32, amount Float64, _topic String, _partition Int32, _offset Int64, _timestamp DateTime64(3, 'UTC'), _key Nullable(String), _headers Map(String, String)) " +
            "ENGINE = MergeTree ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = 10000",
            ct);
        var env = new Dictionary<string, string?>(runEnvironment)
        {
            ["CLICKHOUSE_URL"] = engine.Url.GetLeftPart(UriPartial.Authority),
            ["VALUE_FORMAT"] = "json",
            ["SINK_MODE"] = null,
        };

        await using (var api = Emulator.Start())
        {
            using var sink = BootstrapProcess.Start(bootstrap, api.Endpoint, env);
            var delivered = await api.EnqueueAsync(Event(), TimeSpan.FromMinutes(2), cancellationToken: ct);
            sink.Terminate();
            if (!delivered.Success)
            {
                throw new LocalRunException($"replay demo: the sink failed: {delivered.ErrorType}: {delivered.ErrorMessage}");
            }
        }

        var deadLettered = await ScalarAsync(engine, $"SELECT count() FROM {database}.{DemoTables.DeadLetters} WHERE target_table = '{database}.{Table}'", ct);
        var landed = await ScalarAsync(engine, $"SELECT count() FROM {database}.{Table}", ct);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  sink: {landed} rows landed, {deadLettered} dead-lettered (type error)"));
        await output.WriteLineAsync($"  ALTER TABLE {database}.{Table} MODIFY COLUMN id String");
        await engine.QueryAsync($"ALTER TABLE {database}.{Table} MODIFY COLUMN id String", ct);

        env["SINK_MODE"] = "replay";
        var payload = Encoding.UTF8.GetBytes($$"""{"table":"{{database}}.{{Table}}"}""");
        await using var apiA = Emulator.Start();
        await using var apiB = Emulator.Start();
        using var replayA = BootstrapProcess.Start(bootstrap, apiA.Endpoint, env);
        using var replayB = BootstrapProcess.Start(bootstrap, apiB.Endpoint, env);
        try
        {
            var both = await Task.WhenAll(apiA.EnqueueAsync(payload, TimeSpan.FromMinutes(2), cancellationToken: ct), apiB.EnqueueAsync(payload, TimeSpan.FromMinutes(2), cancellationToken: ct));
            foreach (var r in both)
            {
                await output.WriteLineAsync("  replay (two at once): " + Answer(r));
            }

            var retry = await apiA.EnqueueAsync(payload, TimeSpan.FromMinutes(2), cancellationToken: ct);
            await output.WriteLineAsync("  replay (again):       " + Answer(retry));
        }
        finally
        {
            replayA.Terminate();
            replayB.Terminate();
        }

        var rows = await ScalarAsync(engine, $"SELECT count() FROM {database}.{Table}", ct);
        var offsets = await ScalarAsync(engine, $"SELECT uniqExact(_offset) FROM {database}.{Table}", ct);
        var marked = await ScalarAsync(engine, $"SELECT uniqExactIf(offset, replayed_at IS NOT NULL AND replay_error = '') FROM {database}.{DemoTables.DeadLetters} WHERE target_table = '{database}.{Table}'", ct);
        var ok = rows == 6 && offsets == 6 && marked == deadLettered && deadLettered == 2;
        await output.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"{(ok ? "OK    " : "FAILED ")}replay after ALTER TABLE: {Table} has {rows} rows for {offsets} offsets (6 produced), {marked} of {deadLettered} dead letters marked replayed (kept, not deleted)"));
        return ok;
    }

    /// <summary>Offsets 0-5 of topic payments; 1 and 4 have an id that is not a number.</summary>
    private static byte[] Event()
    {
        static string Value(int i) => Convert.ToBase64String(Encoding.UTF8.GetBytes(
            i is 1 or 4 ? $$"""{"id":"P-{{i}}","amount":{{i}}.5}""" : $$"""{"id":{{i}},"amount":{{i}}.5}"""));
        var records = Enumerable.Range(0, 6).Select(i =>
            $$"""{"topic":"{{Table}}","partition":0,"offset":{{i}},"timestamp":1764082800000,"timestampType":"CREATE_TIME","key":null,"value":"{{Value(i)}}","headers":[]}""");
        return Encoding.UTF8.GetBytes(
            """{"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:us-east-1:123456789012:cluster/local-replay/1","records":{"""
            + $"\"{Table}-0\":[{string.Join(",", records)}]" + "}}");
    }

    private static string Answer(InvocationResult r)
    {
        if (!r.Success)
        {
            return $"FAILED {r.ErrorType}: {r.ErrorMessage}";
        }

        using var doc = JsonDocument.Parse(r.Body);
        var s = doc.RootElement;
        return string.Create(CultureInfo.InvariantCulture, $"selected {s.GetProperty("selected").GetInt32()}, replayed {s.GetProperty("replayed").GetInt32()}, still failing {s.GetProperty("stillFailing").GetInt32()}, already replayed {s.GetProperty("alreadyReplayed").GetInt64()}");
    }

    private static async Task<long> ScalarAsync(ClickHouseEngine engine, string sql, CancellationToken ct) =>
        long.Parse((await engine.QueryAsync(sql, ct)).Trim(), CultureInfo.InvariantCulture);
}
