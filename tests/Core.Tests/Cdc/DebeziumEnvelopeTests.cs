using System.Text;
using System.Text.Json;
using MskClickHouse.Core.Cdc;
using MskClickHouse.Simulation;

namespace MskClickHouse.Core.Tests.Cdc;

public sealed class DebeziumEnvelopeTests
{
    private static (ChangeEventResult Result, string Row) Map(string value, long offset = 7, ChangeEventSchema? types = null)
    {
        var result = DebeziumEnvelope.Map(Encoding.UTF8.GetBytes(value), offset, types, out var row);
        return (result, Encoding.UTF8.GetString(row));
    }

    [Theory]
    [InlineData("c")]
    [InlineData("r")]
    [InlineData("u")]
    public void Map_CreateReadOrUpdate_WritesTheAfterRowLiveAtTheOffset(string op)
    {
        var (result, row) = Map($$"""{"before":{"id":1,"name":"old"},"after":{"id":1,"name":"new","n":1.50},"op":"{{op}}","ts_ms":1}""", offset: 42);

        Assert.Equal(ChangeEventKind.Row, result.Kind);
        Assert.Equal("""{"id":1,"name":"new","n":1.50,"_version":42,"_is_deleted":0}""", row);
    }

    [Fact]
    public void Map_Delete_WritesTheBeforeRowDeleted_EvenWhenItHoldsOnlyTheKey()
    {
        var (result, row) = Map("""{"before":{"id":5},"after":null,"op":"d"}""", offset: 9);

        Assert.Equal(ChangeEventKind.Row, result.Kind);
        Assert.Equal("""{"id":5,"_version":9,"_is_deleted":1}""", row);
    }

    [Fact]
    public void Map_Truncate_IsTruncateWithoutRow()
    {
        Assert.Equal(ChangeEventKind.Truncate, Map("""{"before":null,"after":null,"op":"t"}""").Result.Kind);
    }

    [Fact]
    public void Map_ConverterNullPayload_IsTombstone()
    {
        Assert.Equal(ChangeEventKind.Tombstone, Map("""{"schema":null,"payload":null}""").Result.Kind);
    }

    [Theory]
    [InlineData("""{"after":{"id":1}}""", "no 'op' field")]
    [InlineData("""{"after":{"id":1},"op":5}""", "'op' is Number")]
    [InlineData("""{"after":{"id":1},"op":"x"}""", "'op' is 'x', expected c, r, u, d or t")]
    [InlineData("""{"before":null,"after":null,"op":"c"}""", "op 'c' needs the 'after' object, got null")]
    [InlineData("""{"before":{"id":1},"op":"u"}""", "op 'u' needs the 'after' object, got missing")]
    [InlineData("""{"before":null,"after":{"id":1},"op":"d"}""", "op 'd' needs the 'before' object, got null")]
    [InlineData("""{"after":{"id":1,"_version":3},"op":"c"}""", "own '_version' field")]
    [InlineData("""[1]""", "change event is Array")]
    [InlineData("""{"schema":{},"payload":7}""", "'payload' is Number")]
    public void Map_MalformedEnvelope_NamesTheField(string value, string reason)
    {
        var (result, _) = Map(value);

        Assert.Equal(ChangeEventKind.Malformed, result.Kind);
        Assert.Contains(reason, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_WithoutSchema_PassesValuesThroughAsWritten()
    {
        var (_, row) = Map("""{"after":{"birth":19000,"ts":1700000000123456,"price":"AeI=","doc":"{\"a\":1}","z":"2024-01-01T00:00:00Z"},"op":"c"}""");

        Assert.Equal("""{"birth":19000,"ts":1700000000123456,"price":"AeI=","doc":"{\"a\":1}","z":"2024-01-01T00:00:00Z","_version":7,"_is_deleted":0}""", row);
    }

    [Fact]
    public void Map_WithConnectSchema_ConvertsEveryLogicalType()
    {
        var change = new SourceChange("customers", 'c', null, new SourceRow(3, "Zoë \"Z\"", -1, -1, -12345, """{"tier":"gold","visits":3}""", "2025-01-01T00:00:00.000001Z"), false, 3);
        var value = Encoding.UTF8.GetString(DebeziumJson.Value(change, withSchema: true)!);

        var (result, row) = Map(value, offset: 11);

        Assert.Equal(ChangeEventKind.Row, result.Kind);
        Assert.Equal(
            """{"id":3,"name":"Zoë \"Z\"","birth":"1969-12-31","updated_at":"1969-12-31T23:59:59.999999Z","balance":"-123.45","doc":{"tier":"gold","visits":3},"created":"2025-01-01T00:00:00.000001Z","_version":11,"_is_deleted":0}""",
            row);
    }

    [Theory]
    [InlineData(ConnectType.DebeziumDate, "0", "\"1970-01-01\"")]
    [InlineData(ConnectType.ConnectDate, "19723", "\"2024-01-01\"")]
    [InlineData(ConnectType.DebeziumTimestamp, "1704067200123", "\"2024-01-01T00:00:00.123Z\"")]
    [InlineData(ConnectType.ConnectTimestamp, "-1", "\"1969-12-31T23:59:59.999Z\"")]
    [InlineData(ConnectType.DebeziumMicroTimestamp, "1704067200000001", "\"2024-01-01T00:00:00.000001Z\"")]
    [InlineData(ConnectType.DebeziumNanoTimestamp, "1704067200000000001", "\"2024-01-01T00:00:00.000000001Z\"")]
    [InlineData(ConnectType.DebeziumZonedTimestamp, "\"2024-01-01T02:00:00+02:00\"", "\"2024-01-01T02:00:00+02:00\"")]
    [InlineData(ConnectType.DebeziumJson, "\"[1,{\\\"a\\\":null}]\"", "[1,{\"a\":null}]")]
    [InlineData(ConnectType.DebeziumJson, "\"42\"", "\"42\"")]
    [InlineData(ConnectType.DebeziumDate, "null", "null")]
    [InlineData(ConnectType.DebeziumDate, "\"2024-01-01\"", "\"2024-01-01\"")]
    public void Write_LogicalType_AsClickHouseReadsIt(string type, string value, string expected)
    {
        Assert.Equal(expected, Convert(new ConnectType(type), value));
    }

    [Theory]
    [InlineData(2, 12345L, "\"123.45\"")]
    [InlineData(2, -5L, "\"-0.05\"")]
    [InlineData(0, 255L, "\"255\"")]
    [InlineData(4, 0L, "\"0.0000\"")]
    public void Write_ConnectDecimal_FromBase64UnscaledAndScale(int scale, long unscaled, string expected)
    {
        Assert.Equal(expected, Convert(new ConnectType(ConnectType.ConnectDecimal, scale), "\"" + DebeziumJson.DecimalBase64(unscaled) + "\""));
    }

    [Fact]
    public void Write_VariableScaleDecimal_UsesTheValuesOwnScale()
    {
        var value = $$"""{"scale":3,"value":"{{DebeziumJson.DecimalBase64(-1234567)}}"}""";

        Assert.Equal("\"-1234.567\"", Convert(new ConnectType(ConnectType.VariableScaleDecimal), value));
    }

    [Theory]
    [InlineData(ConnectType.ConnectDecimal, "\"not base64!\"", "not base64")]
    [InlineData(ConnectType.DebeziumDate, "1e99", "not a day count")]
    [InlineData(ConnectType.DebeziumMicroTimestamp, "1.5", "not a whole number")]
    [InlineData(ConnectType.DebeziumJson, "\"{oops\"", "is not JSON")]
    [InlineData(ConnectType.VariableScaleDecimal, "{\"value\":\"AQ==\"}", "needs a 'scale'")]
    public void Map_BadLogicalValue_IsMalformedNamingTheField(string type, string value, string reason)
    {
        var schema = $$"""{"type":"struct","fields":[{"type":"struct","field":"after","fields":[{"type":"x","name":"{{type}}","field":"v"}]}]}""";

        var (result, _) = Map("{\"schema\":" + schema + ",\"payload\":{\"after\":{\"v\":" + value + "},\"op\":\"c\"}}");

        Assert.Equal(ChangeEventKind.Malformed, result.Kind);
        Assert.Contains("field 'v': ", result.Reason, StringComparison.Ordinal);
        Assert.Contains(reason, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void FromAvro_ConfluentEnvelope_ReadsConnectNamesOfTheRowFields()
    {
        var types = ChangeEventSchema.FromAvro(ChangeEventAvro.Schema);

        Assert.Equal(new ConnectType(ConnectType.DebeziumDate), types.Find("birth"));
        Assert.Equal(new ConnectType(ConnectType.DebeziumMicroTimestamp), types.Find("updated_at"));
        Assert.Null(types.Find("balance")); // Avro's own decimal logical type: the transcoder writes its exact text
        Assert.Equal(new ConnectType(ConnectType.DebeziumJson), types.Find("doc"));
        Assert.Null(types.Find("id"));
        Assert.Null(types.Find("name"));
    }

    [Fact]
    public void FromAvro_NotAnEnvelope_IsEmpty()
    {
        Assert.Equal(0, ChangeEventSchema.FromAvro("""{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}""").Count);
        Assert.Equal(0, ChangeEventSchema.FromAvro("not json").Count);
    }

    private static string Convert(ConnectType type, string value)
    {
        using var doc = JsonDocument.Parse(value);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Assert.Null(ConnectValues.Write(w, type, doc.RootElement));
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
