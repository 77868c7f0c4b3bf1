using System.Text;
using MskClickHouse.Simulation;

namespace MskClickHouse.LocalRun;

/// <summary>
/// --generate N: a seeded simulated log per topic and partition (good records padded to about --record-bytes, framed
/// with --value-format avro|protobuf), cut into MSK events the way a mapping would.
/// </summary>
internal sealed class GeneratedEvents(LocalRunOptions options)
{
    /// <summary>Lambda's synchronous invocation payload limit, with room for the envelope.</summary>
    private const int MaxEventBytes = 6 * 1024 * 1024 - 64 * 1024;

    private Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>>? _logs;

    /// <summary>The records per partition: --generate spread over every topic and partition, rounded up.</summary>
    public static int PerPartition(LocalRunOptions options) => (int)Math.Ceiling(options.Generate / (double)(options.Topics.Count * options.Partitions));

    /// <summary>The log of every (topic, partition), built on first use (seeded by --chaos, else 42).</summary>
    public Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> Logs => _logs ??= BuildLogs();

    /// <summary>Round-robin over partitions, --batch-size records per event, halved while the event is over 6 MB.</summary>
    public List<byte[]> Batches()
    {
        var cursors = Logs.Keys.ToDictionary(k => k, _ => 0);
        var batches = new List<byte[]>();
        var size = options.BatchSize;
        while (cursors.Any(c => c.Value < Logs[c.Key].Count))
        {
            var batch = new List<SimRecord>(size);
            foreach (var key in cursors.Keys.ToList())
            {
                var log = Logs[key];
                var take = Math.Min(Math.Max(1, size / cursors.Count), log.Count - cursors[key]);
                if (take <= 0)
                {
                    continue;
                }

                batch.AddRange(log.Skip(cursors[key]).Take(take));
            }

            var bytes = KafkaEventWriter.Write(batch);
            if (bytes.Length > MaxEventBytes && size > 1)
            {
                size /= 2;
                continue;
            }

            foreach (var key in cursors.Keys.ToList())
            {
                cursors[key] += batch.Count(r => (r.Topic, r.Partition) == key);
            }

            batches.Add(bytes);
        }

        return batches;
    }

    private Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> BuildLogs()
    {
        var logs = SimulatedLog.Build(options.ChaosSeed ?? 42, options.Topics, options.Partitions, PerPartition(options), options.BadRatio);
        if (options.RecordBytes <= 120)
        {
            return Framed(logs);
        }

        // Pad the note field of good records up to about --record-bytes.
        var padded = new Dictionary<(string, int), IReadOnlyList<SimRecord>>();
        foreach (var (key, records) in logs)
        {
            padded[key] = records.Select(r =>
            {
                var text = Encoding.UTF8.GetString(r.Value!);
                var missing = options.RecordBytes - r.Value!.Length;
                return missing <= 0 || !text.Contains("\"note\":\"", StringComparison.Ordinal)
                    ? r
                    : r with { Value = Encoding.UTF8.GetBytes(text.Replace("\"note\":\"", "\"note\":\"" + new string('x', missing), StringComparison.Ordinal)) };
            }).ToList();
        }

        return Framed(padded);
    }

    /// <summary>With --value-format avro|protobuf, the values framed for a schema registry (see <see cref="FramedValues"/>).</summary>
    private Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> Framed(Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> logs) =>
        options.ValueFormat == "json"
            ? logs
            : logs.ToDictionary(l => l.Key, l => (IReadOnlyList<SimRecord>)l.Value.Select(r => r with { Value = FramedValues.Convert(r.Value, options.ValueFormat, r.Offset) }).ToList());
}
