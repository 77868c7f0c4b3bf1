namespace MskClickHouse.Core.Audit;

/// <summary>Findings as the text of a log line: the first ranges only, so a mass finding stays one readable line.</summary>
public static class FindingText
{
    /// <summary>At most this many ranges per log line.</summary>
    public const int MaxRanges = 20;

    /// <summary><c>100-199 (expected 100, found 98), ...</c></summary>
    public static string Of(IEnumerable<MissingRange> ranges) =>
        string.Join(", ", ranges.Take(MaxRanges).Select(m => FormattableString.Invariant($"{m.Range} (expected {m.Expected}, found {m.Found})")));

    /// <summary><c>20-22 (3 offsets, 3 extra rows), ...</c></summary>
    public static string Of(IEnumerable<DuplicateRange> ranges) =>
        string.Join(", ", ranges.Take(MaxRanges).Select(d => FormattableString.Invariant($"{d.Range} ({d.Offsets} offsets, {d.ExtraRows} extra rows)")));
}
