using System.Globalization;
using System.Text;

namespace MskClickHouse.Simulation;

/// <summary>Builds seeded topic-partition logs of realistic JSON records, with some deliberately bad ones.</summary>
public static class SimulatedLog
{
    /// <summary>The value of <c>n</c> that <see cref="RejectingColumn"/> rejects (no good record reaches it).</summary>
    public const long RejectedN = 4_000_000_000;

    /// <summary>
    /// A column whose DEFAULT throws for <see cref="RejectedN"/>: ClickHouse answers code 395 without a row number. It
    /// compares text, so a test may still change <c>n</c>'s type (the replay tests make it a String).
    /// </summary>
    public const string RejectingColumn = "check_n UInt8 DEFAULT throwIf(toString(n) = '4000000000', 'n out of range')";

    /// <summary>
    /// Each good value is <c>{"id":"t-p-o","n":o,"amount":x.yy,"note":"..."}</c>. Bad ones (ratio <paramref name="badRatio"/>)
    /// alternate between a non-object JSON value, which the decoder rejects, and text in the numeric column <c>n</c>,
    /// which ClickHouse rejects. With <paramref name="rejectedByDefault"/>, a third kind joins them: a well-formed record
    /// with <c>"n":</c><see cref="RejectedN"/>, which a table with <see cref="RejectingColumn"/> rejects without naming the
    /// row (code 395), so the sink has to isolate it by halving.
    /// </summary>
    public static Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> Build(int seed, IReadOnlyList<string> topics, int partitions, int recordsPerPartition, double badRatio, long firstOffset = 0, bool rejectedByDefault = false)
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
                        value = random.Next(rejectedByDefault ? 3 : 2) switch
                        {
                            0 => "[\"not\",\"an\",\"object\"]",
                            1 => string.Create(CultureInfo.InvariantCulture, $"{{\"id\":\"{id}\",\"n\":\"not-a-number\"}}"),
                            _ => string.Create(CultureInfo.InvariantCulture, $"{{\"id\":\"{id}\",\"n\":{RejectedN}}}"),
                        };
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
