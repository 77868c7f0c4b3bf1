namespace MskClickHouse.Core.Evolution;

/// <summary>A top-level field no column of its table receives, the ClickHouse type its column gets, and its first record.</summary>
/// <param name="Type">The value type (not yet Nullable); null while only JSON nulls were seen.</param>
public sealed record NewField(string Name, string? Type, string Topic, int Partition, long Offset);
