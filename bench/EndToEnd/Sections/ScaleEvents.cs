using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MskClickHouse.EventGenerator;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>
/// MSK events for the scale simulation: one partition of topic <c>topic-a</c> per event, consecutive offset ranges per
/// partition. One template per partition is generated up front with 13-digit offsets (10^12 + n); each event is a copy
/// with the offset digits overwritten in place, so the driver spends microseconds, not the engine's CPU, per event.
/// </summary>
internal sealed partial class ScaleEvents
{
    public const string Topic = "topic-a";
    private const long Base = 1_000_000_000_000L;

    private readonly byte[][] _templates;
    private readonly int[][] _offsetDigits;
    private readonly long[] _batches;

    public ScaleEvents(int partitions, int records, int valueBytes)
    {
        Records = records;
        _templates = new byte[partitions][];
        _offsetDigits = new int[partitions][];
        _batches = new long[partitions];
        for (var p = 0; p < partitions; p++)
        {
            var text = Encoding.UTF8.GetString(MskEventGenerator.Generate(1000 + p, records, valueBytes, 1, 1, 0));
            text = text.Replace("\"topic-a-0\":[", $"\"topic-a-{p}\":[", StringComparison.Ordinal)
                .Replace("\"partition\":0,", $"\"partition\":{p},", StringComparison.Ordinal);
            text = OffsetPattern().Replace(text, m => "\"offset\":" + (Base + long.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture) - 1000).ToString(CultureInfo.InvariantCulture));
            var bytes = Encoding.UTF8.GetBytes(text);
            var positions = new List<int>(records);
            var at = 0;
            int i;
            while ((i = bytes.AsSpan(at).IndexOf("\"offset\":"u8)) >= 0)
            {
                positions.Add(at + i + 9);
                at += i + 9;
            }

            _templates[p] = bytes;
            _offsetDigits[p] = [.. positions];
        }
    }

    public int Records { get; }

    public int Partitions => _templates.Length;

    /// <summary>Bytes of one event (all partitions' events have about this size).</summary>
    public int EventBytes => _templates[0].Length;

    /// <summary>The next event of <paramref name="partition"/>: its offsets follow the previous event's. Not thread-safe per partition.</summary>
    public byte[] Next(int partition)
    {
        var batch = _batches[partition]++;
        var bytes = (byte[])_templates[partition].Clone();
        var positions = _offsetDigits[partition];
        for (var j = 0; j < positions.Length; j++)
        {
            Utf8Formatter.TryFormat(Base + (batch * Records) + j, bytes.AsSpan(positions[j], 13), out _);
        }

        return bytes;
    }

    /// <summary>Records sent so far over every partition.</summary>
    public long RecordsSent => _batches.Sum() * Records;

    [GeneratedRegex("\"offset\":([0-9]+)")]
    private static partial Regex OffsetPattern();
}
