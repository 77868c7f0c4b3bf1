using System.Globalization;

namespace MskClickHouse.Core.Delivery;

/// <summary>An inclusive range of Kafka offsets.</summary>
public readonly record struct OffsetRange
{
    public OffsetRange(long first, long last)
    {
        if (last < first)
        {
            throw new ArgumentException($"offset range {first}-{last} is empty", nameof(last));
        }

        First = first;
        Last = last;
    }

    public long First { get; }

    public long Last { get; }

    public bool Contains(long offset) => offset >= First && offset <= Last;

    public bool Covers(OffsetRange other) => other.First >= First && other.Last <= Last;

    public bool Overlaps(OffsetRange other) => other.First <= Last && other.Last >= First;

    /// <summary>The common part; call only when <see cref="Overlaps"/>.</summary>
    public OffsetRange Intersect(OffsetRange other) => new(Math.Max(First, other.First), Math.Min(Last, other.Last));

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{First}-{Last}");
}
