using MskClickHouse.Core.Formats.Avro;

namespace MskClickHouse.Core.Evolution;

/// <summary>
/// The ClickHouse type of a new column from the Avro type of its field, for what the Avro transcoder writes
/// (src/Core/Formats/Avro/AvroTranscoder.cs). Pure. Records, arrays and maps become their JSON text in a String
/// column (as for plain JSON), so a nested value of any shape is kept; null: no column type (a null-only union).
/// </summary>
public static class AvroColumnTypes
{
    public static string? Of(AvroType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.Kind switch
        {
            AvroKind.Null => null,
            AvroKind.Boolean => ColumnTypes.Bool,
            AvroKind.Int => "Int32",
            AvroKind.Long => ColumnTypes.Int64,
            AvroKind.Float => "Float32",
            AvroKind.Double => ColumnTypes.Float64,
            AvroKind.Date => "Date32",
            AvroKind.TimestampMillis => type.Local ? "DateTime64(3)" : "DateTime64(3, 'UTC')",
            AvroKind.TimestampMicros => type.Local ? "DateTime64(6)" : "DateTime64(6, 'UTC')",
            AvroKind.TimestampNanos => type.Local ? "DateTime64(9)" : "DateTime64(9, 'UTC')",
            AvroKind.FixedUuid => "UUID",
            AvroKind.Union => OfUnion(type),

            // bytes, string, enum, fixed, decimal (exact text), time of day, record, array, map: their JSON text.
            _ => ColumnTypes.String,
        };
    }

    /// <summary>A union with null is its one other branch (the column is Nullable anyway); several other branches: String.</summary>
    private static string? OfUnion(AvroType union)
    {
        var branches = union.Branches.Where(b => b.Kind != AvroKind.Null).ToList();
        return branches.Count switch
        {
            0 => null,
            1 => Of(branches[0]),
            _ => ColumnTypes.String,
        };
    }
}
