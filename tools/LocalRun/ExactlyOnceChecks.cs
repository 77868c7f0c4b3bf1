using System.Text.Json;
using System.Text.Json.Nodes;

namespace MskClickHouse.LocalRun;

/// <summary>
/// The run's two promises, each printed as OK or FAILED: every generated record landed exactly once (a row or a dead
/// letter), and re-delivering what a lost commit would resend adds nothing.
/// </summary>
internal static class ExactlyOnceChecks
{
    /// <summary>With --generate: rows plus dead letters equal the records produced.</summary>
    public static Task<bool> EveryRecordLandedOnceAsync(List<(string Table, long Rows)> counts, LocalRunOptions options, TextWriter output)
    {
        var landed = counts.Sum(c => c.Rows);
        var expected = (long)GeneratedEvents.PerPartition(options) * options.Topics.Count * options.Partitions;
        return CheckAsync(landed == expected, $"every generated record landed exactly once (rows + dead letters = {landed}, produced {expected})", output);
    }

    /// <summary>After the re-delivery every table holds the same number of rows as before it.</summary>
    public static Task<bool> RedeliveryAddedNothingAsync(List<(string Table, long Rows)> before, List<(string Table, long Rows)> after, TextWriter output)
    {
        var unchanged = after.Zip(before).All(p => p.First.Rows == p.Second.Rows);
        return CheckAsync(unchanged, "re-delivery added nothing: " + string.Join(", ", after.Select(c => $"{c.Table} {c.Rows}")), output);
    }

    /// <summary>
    /// Re-delivery the way a lost commit does it: the mapping resends, per partition, the last batch it had sent (from
    /// the committed offset). One event per source cluster (an event-source mapping reads one cluster: the sample
    /// events come from several, and the sink keys state and tokens by source), holding, for every partition of that
    /// cluster, its records from the last batch that carried it. Resending every batch from the start would be a
    /// consumer-group rewind, which the sink deliberately treats as reprocessing (Reconciler: before the range).
    /// </summary>
    public static List<byte[]> LastBatchPerPartition(List<byte[]> batches)
    {
        var envelopes = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var last = new Dictionary<string, Dictionary<string, JsonNode>>(StringComparer.Ordinal);
        foreach (var batch in batches)
        {
            var node = JsonNode.Parse(batch)!.AsObject();
            var source = SourceOf(node);
            envelopes.TryAdd(source, node);
            if (!last.TryGetValue(source, out var partitions))
            {
                last[source] = partitions = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
            }

            foreach (var (mapKey, records) in node["records"]!.AsObject())
            {
                partitions[mapKey] = records!.DeepClone();
            }
        }

        var events = new List<byte[]>();
        foreach (var (source, envelope) in envelopes)
        {
            var merged = new JsonObject();
            foreach (var (mapKey, records) in last[source])
            {
                merged[mapKey] = records;
            }

            envelope["records"] = merged;
            events.Add(JsonSerializer.SerializeToUtf8Bytes(envelope));
        }

        return events;
    }

    /// <summary>The cluster an event came from, as the sink reads it: eventSourceArn (MSK), else bootstrapServers.</summary>
    private static string SourceOf(JsonObject envelope) =>
        envelope["eventSourceArn"]?.GetValue<string>() ?? envelope["bootstrapServers"]?.GetValue<string>() ?? string.Empty;

    private static async Task<bool> CheckAsync(bool ok, string what, TextWriter output)
    {
        await output.WriteLineAsync((ok ? "OK    " : "FAILED ") + what);
        return ok;
    }
}
