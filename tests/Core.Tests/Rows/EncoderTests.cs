using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;
using static MskClickHouse.Core.Tests.Events.TestEvents;

namespace MskClickHouse.Core.Tests.Rows;

public sealed class EncoderTests
{
    private static readonly TableName Table = new("db", "events");

    private static TableShape Shape(MetadataColumns meta, ValueFormat format = ValueFormat.Json, string column = "value") => new(Table, meta, format, column);

    private static (string Body, EncodedPartition Encoded) EncodeOne(string valueJsonRaw, MetadataColumns meta, ValueFormat format = ValueFormat.Json, TombstonePolicy tombstones = TombstonePolicy.Skip, string? key = null, string extra = "", string topic = "t")
    {
        using var batch = Decode(Event(($"{topic}-0", [Record(topic, 0, 42, valueJsonRaw, key, extra)])));
        var encoded = RowEncoder.Encode(batch, batch.Partitions[0], Shape(meta, format), tombstones);
        var body = Encoding.UTF8.GetString(encoded.Buffer.Span);
        return (body, encoded);
    }

    [Theory]
    [InlineData("{}", "{\"_offset\":42}\n")]
    [InlineData("{ }", "{\"_offset\":42 }\n")]
    [InlineData("  {\t}  ", "{\"_offset\":42\t}\n")]
    [InlineData("{ \"a\":1 }", "{\"_offset\":42, \"a\":1 }\n")]
    [InlineData(" {\"a\":{\"b\":[1,2]}} ", "{\"_offset\":42,\"a\":{\"b\":[1,2]}}\n")]
    public void Encode_MetadataSplice_HandlesEmptyAndSpacedObjects(string value, string expected)
    {
        var (body, encoded) = EncodeOne(JsonValue(value), MetadataColumns.Offset);
        using (encoded)
        {
            Assert.Equal(expected, body);
        }
    }

    [Fact]
    public void Encode_NoMetadata_PassesTheObjectThrough()
    {
        var (body, encoded) = EncodeOne(JsonValue(" {\"a\": \"é\\n\"}\t"), MetadataColumns.None);
        using (encoded)
        {
            Assert.Equal("{\"a\": \"é\\n\"}\n", body);
            Assert.Equal([42L], encoded.RowOffsets);
        }
    }

    [Theory]
    [InlineData(MetadataColumns.Topic, "{\"_topic\":\"t\\\"q\",\"a\":1}\n")]
    [InlineData(MetadataColumns.Partition, "{\"_partition\":0,\"a\":1}\n")]
    [InlineData(MetadataColumns.Offset, "{\"_offset\":42,\"a\":1}\n")]
    [InlineData(MetadataColumns.Timestamp, "{\"_timestamp\":\"2018-12-17T22:10:50.987Z\",\"a\":1}\n")]
    [InlineData(MetadataColumns.TimestampType, "{\"_timestamp_type\":\"CREATE_TIME\",\"a\":1}\n")]
    [InlineData(MetadataColumns.Key, "{\"_key\":\"k\\n\\u0001\",\"a\":1}\n")]
    [InlineData(MetadataColumns.Headers, "{\"_headers\":{\"h1\":\"v\\\"1\",\"h2\":\"\"},\"a\":1}\n")]
    public void Encode_EachMetadataColumnAlone_IsWrittenAsClickHouseReadsIt(MetadataColumns column, string expected)
    {
        var (body, encoded) = EncodeOne(
            JsonValue("{\"a\":1}"),
            column,
            key: "\"" + B64("k\n\u0001") + "\"",
            extra: ""","headers":[{"h1":[118,34,49]},{"h2":[]}]""",
            topic: "t\\\"q");
        using (encoded)
        {
            // The topic name t"q arrives JSON-escaped in the event.
            Assert.Equal(expected, body.Replace(",\"headers\":[]", "", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Encode_AllMetadata_InAFixedOrder()
    {
        var (body, encoded) = EncodeOne(JsonValue("{\"a\":1}"), MetadataColumnSets.ClickPipes);
        using (encoded)
        {
            Assert.Equal(
                "{\"_topic\":\"t\",\"_partition\":0,\"_offset\":42,\"_timestamp\":\"2018-12-17T22:10:50.987Z\",\"_timestamp_type\":\"CREATE_TIME\",\"_key\":null,\"_headers\":{},\"a\":1}\n",
                body);
        }
    }

    [Fact]
    public void Encode_ValueWithAMetadataColumnOfItsOwn_IsRejected()
    {
        var (_, encoded) = EncodeOne(JsonValue("{\"_offset\":1}"), MetadataColumns.Offset);
        using (encoded)
        {
            Assert.Equal(0, encoded.RowCount);
            Assert.Contains("'_offset'", Assert.Single(encoded.Rejected).Reason, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("[1,2]", "value is a JSON array, expected an object")]
    [InlineData("42", "value is a JSON number, expected an object")]
    [InlineData("\"s\"", "value is a JSON string, expected an object")]
    [InlineData("null", "value is JSON null, expected an object")]
    [InlineData("true", "value is a JSON boolean, expected an object")]
    [InlineData("", "value is empty, expected a JSON object")]
    public void Decode_NonObjectJsonValue_GoesToDeadLetters(string value, string reason)
    {
        var (_, encoded) = EncodeOne(JsonValue(value), MetadataColumns.None);
        using (encoded)
        {
            Assert.Equal(0, encoded.RowCount);
            var rejected = Assert.Single(encoded.Rejected);
            Assert.Equal(0, rejected.RecordIndex);
            Assert.Equal(reason, rejected.Reason);
        }
    }

    [Theory]
    [InlineData("{\"a\":1", "value is not valid JSON:")]
    [InlineData("{\"a\":}", "value is not valid JSON:")]
    [InlineData("{'a':1}", "value is not valid JSON:")]
    [InlineData("hello", "value is not valid JSON:")]
    public void Encode_BrokenJson_IsRejectedWithTheReadersReasonAndPosition(string value, string reasonStart)
    {
        var (_, encoded) = EncodeOne(JsonValue(value), MetadataColumns.Offset);
        using (encoded)
        {
            var reason = Assert.Single(encoded.Rejected).Reason;
            Assert.StartsWith(reasonStart, reason, StringComparison.Ordinal);
            Assert.Matches(@"at byte \d+$", reason);
        }
    }

    [Theory]
    [InlineData("{\"a\":1} x", 8)]
    [InlineData("{\"a\":1}{\"b\":2}", 7)]
    public void Encode_TrailingGarbage_IsRejected(string value, int at)
    {
        var (_, encoded) = EncodeOne(JsonValue(value), MetadataColumns.None);
        using (encoded)
        {
            Assert.Equal($"value has trailing data after the JSON object at byte {at}", Assert.Single(encoded.Rejected).Reason);
        }
    }

    [Fact]
    public void Encode_InvalidUtf8InJson_IsRejected()
    {
        var bytes = "{\"a\":\"x\xFFy\"}".Select(c => (byte)c).ToArray();
        var (_, encoded) = EncodeOne("\"" + B64(bytes) + "\"", MetadataColumns.None);
        using (encoded)
        {
            Assert.Contains("UTF-8", Assert.Single(encoded.Rejected).Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Encode_RawNewlinesBetweenTokens_BecomeSpaces()
    {
        var (body, encoded) = EncodeOne(JsonValue("{\r\n  \"a\": 1,\n  \"b\": \"x\\ny\"\n}\n"), MetadataColumns.Partition);
        using (encoded)
        {
            Assert.Equal("{\"_partition\":0,    \"a\": 1,   \"b\": \"x\\ny\" }\n", body);
            Assert.Equal(1, body.Count(c => c == '\n'));
            Assert.DoesNotContain('\r', body);
        }
    }

    [Fact]
    public void Encode_StringFormat_EscapesQuotesBackslashesAndControlBytesOnly()
    {
        var raw = new byte[] { (byte)'a', (byte)'"', (byte)'\\', 0x0A, 0x0D, 0x09, 0x00, 0x1F, 0xC3, 0xA9, 0xFF, 0x7F };
        var (body, encoded) = EncodeOne("\"" + B64(raw) + "\"", MetadataColumns.Offset, ValueFormat.String);
        using (encoded)
        {
            var expected = "{\"_offset\":42,\"value\":\"a\\\"\\\\\\n\\r\\t\\u0000\\u001f"u8.ToArray()
                .Concat(new byte[] { 0xC3, 0xA9, 0xFF, 0x7F })
                .Concat("\"}\n"u8.ToArray()).ToArray();
            Assert.Equal(expected, encoded.Buffer.ToArray());
            _ = body;
        }
    }

    [Fact]
    public void Encode_StringFormatWithoutMetadata_IsOneColumnObject()
    {
        var (body, encoded) = EncodeOne("\"" + B64("not json {") + "\"", MetadataColumns.None, ValueFormat.String);
        using (encoded)
        {
            Assert.Equal("{\"value\":\"not json {\"}\n", body);
        }
    }

    [Fact]
    public void Encode_Tombstones_SkipCountsThem_DeadLetterRejectsThem()
    {
        var (_, skipped) = EncodeOne("null", MetadataColumns.None, tombstones: TombstonePolicy.Skip);
        using (skipped)
        {
            Assert.Equal(1, skipped.TombstonesSkipped);
            Assert.Empty(skipped.Rejected);
            Assert.Equal(0, skipped.RowCount);
        }

        var (_, dead) = EncodeOne("null", MetadataColumns.None, tombstones: TombstonePolicy.DeadLetter);
        using (dead)
        {
            Assert.Equal(0, dead.TombstonesSkipped);
            Assert.Equal("tombstone (null value)", Assert.Single(dead.Rejected).Reason);
        }
    }

    [Fact]
    public void Encode_RecordWithDecodeError_IsRejectedWithThatError()
    {
        var (_, encoded) = EncodeOne("\"@@@\"", MetadataColumns.None);
        using (encoded)
        {
            Assert.Contains("not valid base64", Assert.Single(encoded.Rejected).Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Encode_AvroInSourceFormat_IsRejectedNamingTheFormat()
    {
        var avroBinary = new byte[] { 0x00, 0x00, 0x00, 0x04, 0xD2, 0x06, 0x66, 0x6F, 0x6F };
        var meta = ""","valueSchemaMetadata":{"dataFormat":"AVRO","schemaId":"1234"}""";
        var (_, encoded) = EncodeOne("\"" + B64(avroBinary) + "\"", MetadataColumns.None, extra: meta);
        using (encoded)
        {
            Assert.Equal("value is AVRO in SOURCE format; set EventRecordFormat to JSON on the event source mapping, or VALUE_FORMAT=avro to decode it in the function", Assert.Single(encoded.Rejected).Reason);
        }
    }

    [Fact]
    public void Encode_ProtobufInSourceFormat_IsRejectedNamingTheFormat()
    {
        var meta = ""","valueSchemaMetadata":{"dataFormat":"PROTOBUF","schemaId":"1"}""";
        var (_, encoded) = EncodeOne("\"" + B64([0x08, 0x96, 0x01]) + "\"", MetadataColumns.None, extra: meta);
        using (encoded)
        {
            Assert.StartsWith("value is PROTOBUF in SOURCE format", Assert.Single(encoded.Rejected).Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Encode_SchemaRegistryJsonRecordFormat_IsARow()
    {
        var meta = ""","valueSchemaMetadata":{"dataFormat":"PROTOBUF","schemaId":"1"}""";
        var (body, encoded) = EncodeOne(JsonValue("{\"id\":150}"), MetadataColumns.None, extra: meta);
        using (encoded)
        {
            Assert.Equal("{\"id\":150}\n", body);
        }
    }

    [Fact]
    public void Encode_BinaryWithoutSchemaMetadata_SaysItIsBinary()
    {
        var (_, encoded) = EncodeOne("\"" + B64([0x00, 0x01, 0xFF]) + "\"", MetadataColumns.None);
        using (encoded)
        {
            Assert.Contains("binary data", Assert.Single(encoded.Rejected).Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Encode_MixedRecords_RowsAreContiguousAndSubRangesAreSlices()
    {
        using var batch = Decode(Event(("t-0", [
            Record("t", 0, 10, JsonValue("{\"n\":10}")),
            Record("t", 0, 11, JsonValue("[11]")),
            Record("t", 0, 12, "null"),
            Record("t", 0, 13, JsonValue("{\"n\":13}")),
            Record("t", 0, 14, JsonValue("{\"n\":14}")),
        ])));
        using var encoded = RowEncoder.Encode(batch, batch.Partitions[0], Shape(MetadataColumns.Offset), TombstonePolicy.Skip);

        Assert.Equal([10L, 13, 14], encoded.RowOffsets);
        Assert.Equal(1, encoded.TombstonesSkipped);
        Assert.Equal(1, Assert.Single(encoded.Rejected).RecordIndex);
        Assert.Equal("{\"_offset\":13,\"n\":13}\n", Encoding.UTF8.GetString(encoded.Row(1).Span));
        var from = encoded.LowerBound(12);
        Assert.Equal(1, from);
        Assert.Equal("{\"_offset\":13,\"n\":13}\n{\"_offset\":14,\"n\":14}\n", Encoding.UTF8.GetString(encoded.Rows(from, encoded.RowCount).Span));
        Assert.Equal(encoded.ByteCount, encoded.RowStarts[^1]);
    }

    [Fact]
    public void Encode_ManyRecordsWithLargeKeysAndHeaders_GrowsTheBufferAndStaysOneLinePerRow()
    {
        var key = "\"" + B64(new string('"', 5000)) + "\"";
        var records = Enumerable.Range(0, 200).Select(i => Record("t", 0, i, JsonValue("{\"i\":" + i + "}"), key)).ToArray();
        using var batch = Decode(Event(("t-0", records)));
        using var encoded = RowEncoder.Encode(batch, batch.Partitions[0], Shape(MetadataColumnSets.ClickPipes), TombstonePolicy.Skip);
        Assert.Equal(200, encoded.RowCount);
        var lines = Encoding.UTF8.GetString(encoded.Buffer.Span).Split('\n');
        Assert.Equal(201, lines.Length);
        for (var i = 0; i < 200; i++)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(lines[i]);
            Assert.Equal(i, doc.RootElement.GetProperty("i").GetInt32());
            Assert.Equal(new string('"', 5000), doc.RootElement.GetProperty("_key").GetString());
        }
    }

    [Theory]
    [InlineData(0L, "1970-01-01T00:00:00.000Z")]
    [InlineData(-1L, "1970-01-01T00:00:00.000Z")]
    [InlineData(951782400000L, "2000-02-29T00:00:00.000Z")]
    [InlineData(1545084650987L, "2018-12-17T22:10:50.987Z")]
    [InlineData(4102444799999L, "2099-12-31T23:59:59.999Z")]
    public void WriteTimestamp_WritesIsoUtcMilliseconds(long ms, string expected)
    {
        var buffer = new byte[32];
        var n = MskClickHouse.Core.Json.JsonText.Timestamp(ms, buffer);
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer, 0, n));
        if (ms >= 0)
        {
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture), expected);
        }
    }
}
