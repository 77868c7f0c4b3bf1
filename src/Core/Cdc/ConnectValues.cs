using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace MskClickHouse.Core.Cdc;

/// <summary>
/// Writes a row field of a Connect logical type as the JSON text ClickHouse's JSONEachRow input reads (with
/// date_time_input_format=best_effort, as the sink pins it): dates as "yyyy-MM-dd", timestamps as ISO 8601 UTC with
/// 3, 6 or 9 fraction digits (DateTime64), decimals as quoted exact text, Json as the object or array itself (a String
/// column reads it as its text, a JSON column as JSON). A value already in its readable form (an Avro logical type the
/// transcoder wrote, a number for a numeric decimal) passes through.
/// </summary>
public static class ConnectValues
{
    /// <summary>Null when written; otherwise why <paramref name="value"/> is not a value of <paramref name="type"/>.</summary>
    public static string? Write(Utf8JsonWriter writer, ConnectType type, JsonElement value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (value.ValueKind == JsonValueKind.Null)
        {
            writer.WriteNullValue();
            return null;
        }

        switch (type.Name)
        {
            case ConnectType.DebeziumDate or ConnectType.ConnectDate when value.ValueKind == JsonValueKind.Number:
                return value.TryGetInt32(out var days) && days is >= -719_162 and <= 2_932_896
                    ? Raw(writer, DateOnly.FromDayNumber(719_162 + days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
                    : $"{type.Name} {value.GetRawText()} is not a day count in 0001..9999";
            case ConnectType.DebeziumTimestamp or ConnectType.ConnectTimestamp when value.ValueKind == JsonValueKind.Number:
                return Timestamp(writer, type, value, 1_000, 3);
            case ConnectType.DebeziumMicroTimestamp when value.ValueKind == JsonValueKind.Number:
                return Timestamp(writer, type, value, 1_000_000, 6);
            case ConnectType.DebeziumNanoTimestamp when value.ValueKind == JsonValueKind.Number:
                return Timestamp(writer, type, value, 1_000_000_000, 9);
            case ConnectType.ConnectDecimal when value.ValueKind == JsonValueKind.String:
                return Decimal(writer, type.Name, value, type.Scale);
            case ConnectType.VariableScaleDecimal when value.ValueKind == JsonValueKind.Object:
                return value.TryGetProperty("scale", out var s) && s.TryGetInt32(out var scale) && scale is >= 0 and <= 76 && value.TryGetProperty("value", out var v)
                    ? Decimal(writer, type.Name, v, scale)
                    : $"{type.Name} needs a 'scale' of 0..76 and a 'value'";
            case ConnectType.DebeziumJson when value.ValueKind == JsonValueKind.String:
                return Json(writer, value);
            default:
                writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(value), skipInputValidation: true);
                return null;
        }
    }

    private static string? Raw(Utf8JsonWriter writer, string text)
    {
        writer.WriteStringValue(text);
        return null;
    }

    /// <summary>Units of 1/<paramref name="perSecond"/> s since the epoch as "yyyy-MM-ddTHH:mm:ss.f…Z".</summary>
    private static string? Timestamp(Utf8JsonWriter writer, ConnectType type, JsonElement value, long perSecond, int digits)
    {
        if (!value.TryGetInt64(out var units))
        {
            return $"{type.Name} {value.GetRawText()} is not a whole number";
        }

        var seconds = Math.DivRem(units, perSecond, out var fraction);
        if (fraction < 0)
        {
            seconds--;
            fraction += perSecond;
        }

        if (seconds is < -62_135_596_800 or > 253_402_300_799)
        {
            return $"{type.Name} {units} is outside years 0001..9999";
        }

        var at = DateTime.UnixEpoch.AddSeconds(seconds);
        var text = at.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture) + "." + fraction.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0') + "Z";
        return Raw(writer, text);
    }

    /// <summary>A base64 two's-complement big-endian unscaled integer as quoted exact decimal text.</summary>
    private static string? Decimal(Utf8JsonWriter writer, string typeName, JsonElement value, int scale)
    {
        if (value.ValueKind == JsonValueKind.Number)
        {
            writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(value), skipInputValidation: true);
            return null;
        }

        if (value.ValueKind != JsonValueKind.String || !value.TryGetBytesFromBase64(out var bytes) || bytes.Length == 0)
        {
            return $"{typeName} value is not base64 of an unscaled integer (decimal.format=BASE64), got {value.ValueKind}";
        }

        var unscaled = new BigInteger(bytes, isUnsigned: false, isBigEndian: true);
        var digits = BigInteger.Abs(unscaled).ToString(CultureInfo.InvariantCulture).PadLeft(scale + 1, '0');
        var text = (unscaled.Sign < 0 ? "-" : string.Empty) + (scale == 0 ? digits : digits[..^scale] + "." + digits[^scale..]);
        return Raw(writer, text);
    }

    /// <summary>io.debezium.data.Json: the document a string holds, written as JSON (a String column reads its text).</summary>
    private static string? Json(Utf8JsonWriter writer, JsonElement value)
    {
        try
        {
            using var document = JsonDocument.Parse(value.GetString()!);
            if (document.RootElement.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
            {
                writer.WriteRawValue(JsonMarshal.GetRawUtf8Value(value), skipInputValidation: true);
                return null;
            }

            document.RootElement.WriteTo(writer);
            return null;
        }
        catch (JsonException e)
        {
            return $"{ConnectType.DebeziumJson} value is not JSON: {e.Message}";
        }
    }
}
