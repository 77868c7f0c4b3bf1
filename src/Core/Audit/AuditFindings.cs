using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery;

namespace MskClickHouse.Core.Audit;

/// <summary>Which partition of which source a finding is about (<see cref="Source"/> is '' for a table without <c>_source</c>).</summary>
public readonly record struct AuditPartition(string Source, string Topic, int Partition);

/// <summary>Offsets <see cref="Range"/> of a partition, every one of the <see cref="Offsets"/> present offsets in it present more than once (<see cref="ExtraRows"/> copies too many).</summary>
public sealed record DuplicateRange(AuditPartition Partition, OffsetRange Range, long Offsets, long ExtraRows);

/// <summary>A delivered range that held <see cref="Expected"/> rows for the tables, of which only <see cref="Found"/> are in the target or dead-letter table.</summary>
public sealed record MissingRange(AuditPartition Partition, OffsetRange Range, long Expected, long Found)
{
    public long Missing => Expected - Found;
}

/// <summary>What the audit found in one table.</summary>
public sealed record TableAudit(TableName Table)
{
    public List<DuplicateRange> Duplicates { get; } = [];

    public List<MissingRange> Missing { get; } = [];

    /// <summary>Whether the table exists and has offset columns: only then are its metrics published.</summary>
    public bool Checked { get; set; }

    /// <summary>Ranges checked for missing records.</summary>
    public long AuditedRanges { get; set; }

    /// <summary>Why the table (or part of it) was not audited, if so.</summary>
    public List<string> Skipped { get; } = [];

    public long DuplicateOffsets => Duplicates.Sum(d => d.Offsets);

    public long MissingRecords => Missing.Sum(m => m.Missing);
}
