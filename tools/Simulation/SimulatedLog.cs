using System.Globalization;
using System.Text;

namespace MskClickHouse.Simulation;

/// <summary>Builds seeded topic-partition logs of realistic JSON records, with some deliberately bad ones.</summary>
public static class SimulatedLog
{
    /// <summary>
    /// Each good value is <c>{"id":"t-p-o","n":o,"amount":x.yy,"note":"..."}</c>. Bad ones (ratio <paramref name="badRatio"/>)
    /// alternate between a non-object JSON value, which the decoder rejects, and text in the numeric column <c>n</c>,
    /// which ClickHouse rejects.
    /// </summary>
    public static Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> Build(int seed, IReadOnlyList<string> topics, int partitions, int recordsPerPartition, double badRatio, long firstOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(topics);
        var random = new Random(seed);
        var logs = new Dictionary<(string, int), IReadOnlyList<SimRecord>>();
        var baseTime = 1_764_000_000_000L;
        foreach (var topic in topics)
        {
            for (var p = 0; p < partitions; p++)
            {
                var records = new List<SimRecord>(recordsPerPartition);
                for (var i = 0; i < recordsPerPartition; i++)
                {
                    var offset = firstOffset + i;
                    var id = string.Create(CultureInfo.InvariantCulture, $"{topic}-{p}-{offset}");
                    string value;
                    if (random.NextDouble() < badRatio)
                    {
                        value = random.Next(2) == 0
                            ? "[\"not\",\"an\",\"object\"]"
                            : string.Create(CultureInfo.InvariantCulture, $"{{\"id\":\"{id}\",\"n\":\"not-a-number\"}}");
                    }
                    else
                    {
                        value = string.Create(CultureInfo.InvariantCulture, $"{{\"id\":\"{id}\",\"n\":{offset},\"amount\":{random.Next(0, 100000) / 100.0},\"note\":\"caf\u00e9 \\\"quoted\\\" {random.Next()}\"}}");
                    }

                    records.Add(new SimRecord(
                        topic,
                        p,
                        offset,
                        baseTime + (offset * 10),
                        Encoding.UTF8.GetBytes(id),
                        Encoding.UTF8.GetBytes(value),
                        [new("trace", Encoding.UTF8.GetBytes(id)), new("bin", [0xff, 0x80, 0x01])]));
                }

                logs[(topic, p)] = records;
            }
        }

        return logs;
    }
}
