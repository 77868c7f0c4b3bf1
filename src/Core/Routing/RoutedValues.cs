using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Formats;

namespace MskClickHouse.Core.Routing;

/// <summary>
/// What a field condition of ROUTES reads for a registry-framed topic: the record decoded to the JSON the row encoder
/// would write (<see cref="FramedValueDecoder"/>, same schemas). A value that does not decode has no fields here; its
/// table's encoder dead-letters it with the reason if another rule routes it.
/// </summary>
public static class RoutedValues
{
    /// <summary>The decoder for <paramref name="format"/>'s values; null for json and string (read as they are).</summary>
    public static ValueJson? For(ValueFormat format, ResolvedSchemas? schemas)
    {
        if (format is not (ValueFormat.Avro or ValueFormat.Protobuf or ValueFormat.JsonSchema))
        {
            return null;
        }

        var resolved = schemas ?? ResolvedSchemas.Empty;
        return (ReadOnlySpan<byte> value, out ReadOnlySpan<byte> json) =>
            FramedValueDecoder.Decode(value, resolved, MetadataColumns.None, out json, out _) is null;
    }
}
