namespace MskClickHouse.Core.Configuration;

/// <summary>CDC_FORMAT: whether the values of (some) topics are change events rather than rows (docs/cdc.md).</summary>
public enum ChangeEventFormat
{
    /// <summary>Values are rows.</summary>
    None,

    /// <summary>Values are Debezium change-event envelopes, mapped onto a ReplacingMergeTree(_version, _is_deleted) table.</summary>
    Debezium,
}
