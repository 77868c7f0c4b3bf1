namespace MskClickHouse.Core.Configuration;

/// <summary>SCHEMA_EVOLUTION: what the sink does with a top-level field its table has no column for.</summary>
public enum SchemaEvolutionMode
{
    /// <summary>Nothing: ClickHouse drops the field (the <c>UnknownFields</c> check reports it).</summary>
    Off,

    /// <summary>Adds a Nullable column for it before the insert (<c>ALTER TABLE … ADD COLUMN IF NOT EXISTS</c>).</summary>
    AddColumns,
}
