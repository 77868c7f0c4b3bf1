using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MskClickHouse.EventGenerator;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>
/// MSK events for the scale simulation: each event carries one or several partitions of topic <c>topic-a</c>, each with
/// the next offsets of that partition (up to <see cref="Records"/> per partition). One generated event holds every
/// partition's member (<c>"topic-a-P":[…]</c>) with 13-digit offsets (10^12 + n); an event is the envelope around copies
/// of the first records of its partitions' members with the offset digits overwritten in place, so the driver spends
/// microseconds, not the engine's CPU, per event.
/// </summary>
internal sealed partial class ScaleEvents
{
    public const string Topic = "topic-a";
    private const long Base = 1_000_000_000_000L;

    private readonly byte[] _prefix;
    private readonly byte[] _suffix;
    private readonly byte[][] _members;
    private readonly int[][] _offsetDigits;
    private readonly int[][] _recordStarts;
    private readonly long[] _next;

    public ScaleEvents(int partitions, int records, int valueBytes)
    {
        Records = records;
        _members = new byte[partitions][];
        _offsetDigits = new int[partitions][];
        _recordStarts = new int[partitions][];
        _next = new long[partitions];
        Array.Fill(_next, Base);

        // One topic, every partition: the generator deals records round-robin, so each partition gets exactly `records`.
        var text = Encoding.UTF8.GetString(MskEventGenerator.Generate(1000 + partitions, records * partitions, valueBytes, 1, partitions, 0));
        text = OffsetPattern().Replace(text, "\"offset\":" + Base.ToString(CultureInfo.InvariantCulture));
        var bytes = Encoding.UTF8.GetBytes(text);
        var starts = Enumerable.Range(0, partitions).Select(p => bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes($"\"{Topic}-{p}\":["))).ToArray();
        var recordsEnd = bytes.AsSpan().LastIndexOf("]}"u8) + 1;
        _prefix = bytes[..starts[0]];
        _suffix = bytes[recordsEnd..];
        for (var p = 0; p < partitions; p++)
        {
            var end = p + 1 < partitions ? starts[p + 1] - 1 : recordsEnd; // the comma between members is not the member's
            var member = bytes[starts[p]..end];
            _members[p] = member;
            _offsetDigits[p] = Positions(member, "\"offset\":"u8, 9);
            _recordStarts[p] = Positions(member, "{\"topic\":"u8, 0);
        }
    }

    /// <summary>Most records per partition per event (and the default).</summary>
    public int Records { get; }

    public int Partitions => _members.Length;

    /// <summary>Bytes of an event of one partition with <see cref="Records"/> records (all partitions' members have about this size).</summary>
    public int EventBytes => _prefix.Length + _members[0].Length + _suffix.Length;

    /// <summary>The next event of <paramref name="partition"/> alone, <see cref="Records"/> records.</summary>
    public byte[] Next(int partition) => Next([partition], Records);

    /// <summary>
    /// The next event of these partitions, <paramref name="records"/> of each: each one's offsets follow its previous
    /// event's. Not thread-safe for a partition (the caller holds every partition of an event while it is in flight).
    /// </summary>
    public byte[] Next(IReadOnlyList<int> partitions, int records)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(records, Records);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(records);

        // A member cut after `records` records: up to the comma before the next record, then the closing bracket.
        int Length(int p) => records == Records ? _members[p].Length : _recordStarts[p][records];
        var bytes = new byte[_prefix.Length + _suffix.Length + partitions.Sum(p => Length(p) + 1) - 1];
        _prefix.CopyTo(bytes, 0);
        var at = _prefix.Length;
        for (var k = 0; k < partitions.Count; k++)
        {
            var p = partitions[k];
            if (k > 0)
            {
                bytes[at++] = (byte)',';
            }

            var length = Length(p);
            _members[p].AsSpan(0, length).CopyTo(bytes.AsSpan(at));
            if (records < Records)
            {
                bytes[at + length - 1] = (byte)']';
            }

            var positions = _offsetDigits[p];
            for (var j = 0; j < records; j++)
            {
                Utf8Formatter.TryFormat(_next[p] + j, bytes.AsSpan(at + positions[j], 13), out _);
            }

            _next[p] += records;
            at += length;
        }

        _suffix.CopyTo(bytes, at);
        return bytes;
    }

    /// <summary>Records sent so far over every partition.</summary>
    public long RecordsSent => _next.Sum(n => n - Base);

    private static int[] Positions(byte[] member, ReadOnlySpan<byte> marker, int skip)
    {
        var positions = new List<int>();
        var at = 0;
        int i;
        while ((i = member.AsSpan(at).IndexOf(marker)) >= 0)
        {
            positions.Add(at + i + skip);
            at += i + marker.Length;
        }

        return [.. positions];
    }

    [GeneratedRegex("\"offset\":[0-9]+")]
    private static partial Regex OffsetPattern();
}
