namespace MskClickHouse.Core.Cdc;

/// <summary>What one change event becomes.</summary>
public enum ChangeEventKind
{
    /// <summary>A row: the <c>after</c> image of c/r/u, or the <c>before</c> image of d with <c>_is_deleted = 1</c>.</summary>
    Row,

    /// <summary>A tombstone (null value, or a converter's null payload): skipped and counted, no row.</summary>
    Tombstone,

    /// <summary>Op <c>t</c>: a truncate of the source table. Skipped, counted and warned about: no row is deleted.</summary>
    Truncate,

    /// <summary>Not a change event the mapping can read: dead-lettered with the reason.</summary>
    Malformed,
}
