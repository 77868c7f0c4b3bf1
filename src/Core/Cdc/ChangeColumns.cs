namespace MskClickHouse.Core.Cdc;

/// <summary>The two columns the change-event mapping adds to every row (docs/cdc.md).</summary>
public static class ChangeColumns
{
    /// <summary>The ReplacingMergeTree version: the Kafka offset of the change event.</summary>
    public const string Version = "_version";

    /// <summary>The ReplacingMergeTree is_deleted column: 1 for a delete, else 0.</summary>
    public const string IsDeleted = "_is_deleted";
}
