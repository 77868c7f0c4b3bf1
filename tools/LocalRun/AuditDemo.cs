using System.Globalization;
using System.Text;
using System.Text.Json;
using MskClickHouse.RuntimeApiEmulator;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.LocalRun;

/// <summary>
/// The completeness audit (issue #17) on the local engine: the sink delivers two batches of topic auditdemo (offset
/// gaps like a transactional producer's, a tombstone), one delivered row is deleted behind the sink's back, and the same
/// bootstrap in SINK_MODE=audit must report exactly that row's range as missing, and no duplicate.
/// </summary>
internal static class AuditDemo
{
    private const string Topic = "auditdemo";

    /// <summary>Returns whether the audit found exactly the deleted row.</summary>
    public static async Task<bool> RunAsync(ClickHouseEngine engine, string database, string bootstrap, Dictionary<string, string?> sinkEnvironment, TextWriter output, CancellationToken ct)
    {
        await engine.QueryAsync(
            $"CREATE TABLE {database}.{Topic} (id UInt64, _topic String, _partition Int32, _offset Int64, _timestamp DateTime64(3, 'UTC')) " +
            "ENGINE = MergeTree PARTITION BY toYYYYMMDD(_timestamp) ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = 10000",
            ct);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        // A sink of its own for JSON values whatever --value-format the run uses; the same sink id (the emulator gives
        // every process the same function name), so the audit below sees the main run's state too.
        var jsonEnv = new Dictionary<string, string?>(sinkEnvironment) { ["VALUE_FORMAT"] = "json" };
        await using (var sinkApi = Emulator.Start())
        {
            using var sink = BootstrapProcess.Start(bootstrap, sinkApi.Endpoint, jsonEnv);
            foreach (var offsets in new long[][] { [0, 1, 2, 4, 5, 6], [8, 9, 10, 11] })
            {
                var result = await sinkApi.EnqueueAsync(Event(offsets, now), TimeSpan.FromMinutes(2), cancellationToken: ct);
                if (!result.Success || BatchItemFailures.Parse(result.Body).Count > 0)
                {
                    throw new LocalRunException($"audit demo: the sink did not deliver {Topic} offsets {offsets[0]}-{offsets[^1]}: {result.ErrorType} {result.BodyText}");
                }
            }

            sink.Terminate();
            await sink.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        await engine.QueryAsync($"ALTER TABLE {database}.{Topic} DELETE WHERE _offset = 4 SETTINGS mutations_sync = 2", ct);
        await output.WriteLineAsync($"audit: delivered {Topic} offsets 0-6 and 8-11 (3, 7 are commit markers, 5 a tombstone), then deleted the row at offset 4 ...");

        // The same bootstrap and environment (same sink id: the emulator gives both processes the same function name).
        var env = new Dictionary<string, string?>(jsonEnv) { ["SINK_MODE"] = "audit" };
        await using var emulator = Emulator.Start();
        using var audit = BootstrapProcess.Start(bootstrap, emulator.Endpoint, env);
        var answer = await emulator.EnqueueAsync("{}"u8.ToArray(), TimeSpan.FromMinutes(2), cancellationToken: ct);
        audit.Terminate();
        await audit.WaitForExitAsync(TimeSpan.FromSeconds(10));
        if (!answer.Success)
        {
            throw new LocalRunException($"the audit failed: {answer.ErrorType}: {answer.BodyText}");
        }

        using var doc = JsonDocument.Parse(answer.Body);
        var ok = false;
        foreach (var table in doc.RootElement.GetProperty("tables").EnumerateArray())
        {
            var name = table.GetProperty("table").GetString();
            var missing = table.GetProperty("missingRecords").GetInt64();
            var duplicates = table.GetProperty("duplicateOffsets").GetInt64();
            var ranges = string.Join(", ", table.GetProperty("missingRanges").EnumerateArray().Select(m => string.Create(
                CultureInfo.InvariantCulture,
                $"{m.GetProperty("topic").GetString()}/{m.GetProperty("partition").GetInt32()} offsets {m.GetProperty("first").GetInt64()}-{m.GetProperty("last").GetInt64()}: expected {m.GetProperty("expected").GetInt64()}, found {m.GetProperty("found").GetInt64()}")));
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {name,-40} DuplicateOffsets {duplicates,3}  MissingRecords {missing,3}  ranges audited {table.GetProperty("auditedRanges").GetInt64()}{(ranges.Length > 0 ? "  " + ranges : string.Empty)}{Skipped(table)}"));
            if (name == $"{database}.{Topic}")
            {
                ok = missing == 1 && duplicates == 0 && ranges.Contains("offsets 0-6: expected 5, found 4", StringComparison.Ordinal);
            }
        }

        await output.WriteLineAsync(ok ? "audit: the deleted row was found missing (and nothing else in its table)" : "audit: FAILED to find exactly the deleted row");
        return ok;
    }

    private static string Skipped(JsonElement table)
    {
        var reasons = table.GetProperty("skipped").EnumerateArray().Select(r => r.GetString()).ToList();
        return reasons.Count == 0 ? string.Empty : "  not audited: " + string.Join("; ", reasons);
    }

    private static byte[] Event(long[] offsets, long timestampMs) => Encoding.UTF8.GetBytes(
        $$"""{"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:us-east-1:123456789012:cluster/local-audit/1","bootstrapServers":"b-1:9098","records":{"{{Topic}}-0":["""
        + string.Join(',', offsets.Select(o => string.Create(
            CultureInfo.InvariantCulture,
            $$"""{"topic":"{{Topic}}","partition":0,"offset":{{o}},"timestamp":{{timestampMs}},"timestampType":"CREATE_TIME","key":null,"value":{{(o == 5 ? "null" : "\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes($$"""{"id":{{o}}}""")) + "\"")}},"headers":[]}""")))
        + "]}}");
}
