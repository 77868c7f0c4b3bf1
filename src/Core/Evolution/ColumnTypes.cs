using System.Text.Json;

namespace MskClickHouse.Core.Evolution;

/// <summary>
/// The ClickHouse type of a new column from a JSON value, and how two values' types combine. Pure. Measured on
/// ClickHouse 26.7 (tests/Core.Tests/Evolution/ColumnTypesEngineTests): a JSON array or object sent to a
/// <c>Nullable(String)</c> column lands as its JSON text (<c>input_format_json_read_arrays_as_strings</c> and
/// <c>…_objects_as_strings</c> are on by default), so it stays retrievable with <c>JSONExtract*</c>; <c>2.5</c> sent to
/// an <c>Int64</c> column is refused (code 27), hence integer and float values of one field make a Float64 column.
/// </summary>
public static class ColumnTypes
{
    public const string Int64 = "Int64";
    public const string Float64 = "Float64";
    public const string String = "String";
    public const string Bool = "Bool";

    /// <summary>The type of the value the reader is on; null for JSON null (no type can be told).</summary>
    public static string? OfJsonValue(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number => reader.TryGetInt64(out _) ? Int64 : Float64,
        JsonTokenType.String => String,
        JsonTokenType.True or JsonTokenType.False => Bool,
        JsonTokenType.StartArray or JsonTokenType.StartObject => String,
        _ => null,
    };

    /// <summary>
    /// The type of a field seen with both types: the first, except that integers and floats make Float64 (a value of
    /// another type than the column's is dead-lettered by the insert, as for any column).
    /// </summary>
    public static string? Widen(string? first, string? next) =>
        first is null ? next
        : next is null || first == next ? first
        : (first, next) is (Int64, Float64) or (Float64, Int64) ? Float64
        : first;

    /// <summary>The column's declared type: Nullable, so rows written before the column existed (and rows without the field) read NULL.</summary>
    public static string Nullable(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.StartsWith("Nullable(", StringComparison.Ordinal) ? type : $"Nullable({type})";
    }
}
