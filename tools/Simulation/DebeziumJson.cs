using System.Buffers;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace MskClickHouse.Simulation;

/// <summary>
/// Writes a <see cref="SourceChange"/> the way Debezium's JsonConverter does: the envelope (<c>before</c>, <c>after</c>,
/// <c>source</c>, <c>op</c>, <c>ts_ms</c>), alone (<c>schemas.enable=false</c>) or inside
/// <c>{"schema":…,"payload":…}</c> with the Connect schema naming each field's logical type; decimals as base64 of the
/// unscaled big-endian two's complement (decimal.format=BASE64). A tombstone is a null value.
/// </summary>
public static class DebeziumJson
{
    /// <summary>The Kafka key Debezium writes for a row: its primary key (null for a truncate).</summary>
    public static byte[]? Key(SourceChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return change.Op == 't' ? null : Encoding.UTF8.GetBytes($"{{\"id\":{change.KeyId}}}");
    }

    public static byte[]? Value(SourceChange change, bool withSchema)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (change.IsTombstone)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (withSchema)
            {
                w.WritePropertyName("schema");
                WriteSchema(w, change.Table);
                w.WritePropertyName("payload");
                w.WriteStartObject();
            }

            w.WritePropertyName("before");
            WriteRow(w, change.Before, change.KeyOnlyBefore && !withSchema, change.KeyOnlyBefore);
            w.WritePropertyName("after");
            WriteRow(w, change.After, false, false);
            w.WriteStartObject("source");
            w.WriteString("connector", "postgresql");
            w.WriteString("name", "sim");
            w.WriteString("table", change.Table);
            w.WriteEndObject();
            w.WriteString("op", change.Op.ToString());
            w.WriteNumber("ts_ms", 1_735_689_600_000);
            if (withSchema)
            {
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Base64 of the unscaled value's big-endian two's complement (Connect Decimal in JSON).</summary>
    public static string DecimalBase64(long unscaled) => Convert.ToBase64String(new BigInteger(unscaled).ToByteArray(isUnsigned: false, isBigEndian: true));

    private static void WriteRow(Utf8JsonWriter w, SourceRow? row, bool keyOnly, bool nullsButKey)
    {
        if (row is null)
        {
            w.WriteNullValue();
            return;
        }

        w.WriteStartObject();
        w.WriteNumber("id", row.Id);
        if (!keyOnly)
        {
            if (nullsButKey)
            {
                foreach (var name in new[] { "name", "birth", "updated_at", "balance", "doc", "created" })
                {
                    w.WriteNull(name);
                }
            }
            else
            {
                w.WriteString("name", row.Name);
                w.WriteNumber("birth", row.BirthDays);
                w.WriteNumber("updated_at", row.UpdatedMicros);
                w.WriteString("balance", DecimalBase64(row.BalanceCents));
                w.WriteString("doc", row.Doc);
                w.WriteString("created", row.Created);
            }
        }

        w.WriteEndObject();
    }

    private static void WriteSchema(Utf8JsonWriter w, string table)
    {
        w.WriteStartObject();
        w.WriteString("type", "struct");
        w.WriteStartArray("fields");
        foreach (var image in new[] { "before", "after" })
        {
            w.WriteStartObject();
            w.WriteString("type", "struct");
            w.WriteStartArray("fields");
            Field(w, "id", "int32", null, optional: false);
            Field(w, "name", "string", null);
            Field(w, "birth", "int32", "io.debezium.time.Date");
            Field(w, "updated_at", "int64", "io.debezium.time.MicroTimestamp");
            Field(w, "balance", "bytes", "org.apache.kafka.connect.data.Decimal", scale: 2);
            Field(w, "doc", "string", "io.debezium.data.Json");
            Field(w, "created", "string", "io.debezium.time.ZonedTimestamp");
            w.WriteEndArray();
            w.WriteBoolean("optional", true);
            w.WriteString("name", $"sim.shop.{table}.Value");
            w.WriteString("field", image);
            w.WriteEndObject();
        }

        w.WriteStartObject();
        w.WriteString("type", "struct");
        w.WriteStartArray("fields");
        Field(w, "connector", "string", null, optional: false);
        Field(w, "name", "string", null, optional: false);
        Field(w, "table", "string", null, optional: false);
        w.WriteEndArray();
        w.WriteBoolean("optional", false);
        w.WriteString("name", "io.debezium.connector.postgresql.Source");
        w.WriteString("field", "source");
        w.WriteEndObject();
        Field(w, "op", "string", null, optional: false);
        Field(w, "ts_ms", "int64", null);
        w.WriteEndArray();
        w.WriteBoolean("optional", false);
        w.WriteString("name", $"sim.shop.{table}.Envelope");
        w.WriteNumber("version", 1);
        w.WriteEndObject();
    }

    private static void Field(Utf8JsonWriter w, string field, string type, string? logical, bool optional = true, int? scale = null)
    {
        w.WriteStartObject();
        w.WriteString("type", type);
        w.WriteBoolean("optional", optional);
        if (logical is not null)
        {
            w.WriteString("name", logical);
            w.WriteNumber("version", 1);
        }

        if (scale is { } s)
        {
            w.WriteStartObject("parameters");
            w.WriteString("scale", s.ToString(System.Globalization.CultureInfo.InvariantCulture));
            w.WriteString("connect.decimal.precision", "12");
            w.WriteEndObject();
        }

        w.WriteString("field", field);
        w.WriteEndObject();
    }
}
