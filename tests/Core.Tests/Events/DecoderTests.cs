using System.Text;
using MskClickHouse.Core.Events;
using static MskClickHouse.Core.Tests.Events.TestEvents;

namespace MskClickHouse.Core.Tests.Events;

public sealed class DecoderTests
{
    [Fact]
    public void Decode_EmptyRecordsMap_GivesAnEmptyBatch()
    {
        using var batch = Decode("""{"eventSource":"SelfManagedKafka","records":{}}""");
        Assert.Empty(batch.Partitions);
        Assert.Equal(0, batch.RecordCount);
        Assert.Null(batch.OldestTimestampMs);
        Assert.Equal("SelfManagedKafka", batch.EventSource);
    }

    [Fact]
    public void Decode_NullValue_IsATombstone()
    {
        using var batch = Decode(Event(("t-0", [Record("t", 0, 1, "null"), Record("t", 0, 2, null)])));
        var records = batch.Partitions[0].Records;
        Assert.True(records[0].IsTombstone);
        Assert.True(records[1].IsTombstone);
        Assert.Null(records[0].Error);
    }

    [Fact]
    public void Decode_NullAndAbsentKeys_AreNull_EmptyKeyIsNot()
    {
        using var batch = Decode(Event(("t-0", [Record("t", 0, 1, JsonValue("{}"), "null"), Record("t", 0, 2, JsonValue("{}")), Record("t", 0, 3, JsonValue("{}"), "\"\"")])));
        var records = batch.Partitions[0].Records;
        Assert.True(records[0].Key.IsNull);
        Assert.True(records[1].Key.IsNull);
        Assert.False(records[2].Key.IsNull);
        Assert.Equal(0, records[2].Key.Length);
    }

    [Fact]
    public void Decode_SignedHeaderBytes_BecomeBytes()
    {
        var rec = Record("t", 0, 1, JsonValue("{}"), extra: ""","headers":[{"a":[-128,-1,0,127]},{"b":[]},{"\u00e9":[104,105]}]""")
            .Replace(",\"headers\":[],", ",", StringComparison.Ordinal);
        using var batch = Decode(Event(("t-0", [rec])));
        var r = batch.Partitions[0].Records[0];
        var h = batch.HeadersOf(r).ToArray();
        Assert.Equal(3, h.Length);
        Assert.Equal(new byte[] { 0x80, 0xFF, 0x00, 0x7F }, batch.Bytes(h[0].Value).ToArray());
        Assert.Equal(0, h[1].Value.Length);
        Assert.Equal("é", batch.Text(h[2].Name));
        Assert.Equal("hi", batch.Text(h[2].Value));
    }

    [Fact]
    public void Decode_HeaderByteOutOfRange_IsARecordError()
    {
        var rec = Record("t", 0, 1, JsonValue("{}")).Replace("\"headers\":[]", "\"headers\":[{\"a\":[1000]}]", StringComparison.Ordinal);
        using var batch = Decode(Event(("t-0", [rec])));
        Assert.Contains("header", batch.Partitions[0].Records[0].Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_UnicodeAndEscapedJsonInValue_RoundTripsExactly()
    {
        var text = "{\"name\":\"Zoë ☃ 😀\",\"quote\":\"a\\\"b\\\\c\\u0041\",\"nl\":\"x\\ny\"}";
        using var batch = Decode(Event(("t-0", [Record("t", 0, 1, JsonValue(text))])));
        Assert.Equal(text, batch.Text(batch.Partitions[0].Records[0].Value));
    }

    [Fact]
    public void Decode_OneMegabyteValue_DecodesWhole()
    {
        var big = "{\"blob\":\"" + new string('x', 1 << 20) + "\"}";
        using var batch = Decode(Event(("t-0", [Record("t", 0, 1, JsonValue(big))])));
        var r = batch.Partitions[0].Records[0];
        Assert.Null(r.Error);
        Assert.Equal(big.Length, r.Value.Length);
        Assert.True(batch.Bytes(r.Value).SequenceEqual(Encoding.UTF8.GetBytes(big)));
    }

    [Fact]
    public void Decode_InvalidBase64_IsARecordErrorKeepingTheRawRecord()
    {
        var rec = Record("t", 0, 7, "\"not*base64!\"");
        using var batch = Decode(Event(("t-0", [rec, Record("t", 0, 8, JsonValue("{}"))])));
        var records = batch.Partitions[0].Records;
        Assert.Equal(2, records.Length);
        Assert.Contains("'value' is not valid base64", records[0].Error, StringComparison.Ordinal);
        Assert.Equal(rec, batch.Text(records[0].Value));
        Assert.False(records[0].IsTombstone);
        Assert.Null(records[1].Error);
    }

    [Fact]
    public void Decode_InvalidBase64Key_NamesTheKeyField()
    {
        using var batch = Decode(Event(("t-0", [Record("t", 0, 1, JsonValue("{}"), "\"%%%\"")])));
        Assert.Contains("'key' is not valid base64", batch.Partitions[0].Records[0].Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_EscapedBase64_IsUnescapedFirst()
    {
        // "/+8=" is 0xFF 0xEF; JSON may send '/' as "\/" and '+' as "\u002B".
        using var batch = Decode(Event(("t-0", [Record("t", 0, 1, "\"\\/\\u002B8=\"", "\"\\/w==\"")])));
        var r = batch.Partitions[0].Records[0];
        Assert.Null(r.Error);
        Assert.Equal(new byte[] { 0xFF, 0xEF }, batch.Bytes(r.Value).ToArray());
        Assert.Equal(new byte[] { 0xFF }, batch.Bytes(r.Key).ToArray());
    }

    [Fact]
    public void Decode_MapKeyDisagreeingWithRecords_GroupsByTheRecordsOwnTopicAndPartition()
    {
        using var batch = Decode(Event(
            ("orders-0", [Record("orders", 3, 10, JsonValue("{}")), Record("orders", 0, 11, JsonValue("{}"))]),
            ("orders-3", [Record("orders", 3, 9, JsonValue("{}"))])));

        Assert.Equal(2, batch.Partitions.Count);
        var p3 = batch.Partitions.Single(p => p.Partition == 3);
        Assert.Equal("orders-0", p3.MapKey); // the map key of the first record seen
        Assert.Equal([9L, 10L], p3.Records.Select(r => r.Offset));
        var p0 = batch.Partitions.Single(p => p.Partition == 0);
        Assert.Equal("orders-0", p0.MapKey);
    }

    [Fact]
    public void Decode_ManyTopicsAndPartitions_KeepsEachApart()
    {
        var entries = new List<(string, string[])>();
        foreach (var topic in new[] { "a", "b-c", "d.e" })
        {
            for (var p = 0; p < 4; p++)
            {
                entries.Add(($"{topic}-{p}", Enumerable.Range(0, 5).Select(o => Record(topic, p, (p * 100) + o, JsonValue($"{{\"o\":{o}}}"))).ToArray()));
            }
        }

        using var batch = Decode(Event([.. entries]));
        Assert.Equal(12, batch.Partitions.Count);
        Assert.Equal(60, batch.RecordCount);
        var bc2 = batch.Partitions.Single(p => p.Topic == "b-c" && p.Partition == 2);
        Assert.Equal("b-c-2", bc2.MapKey);
        Assert.Equal([200L, 201, 202, 203, 204], bc2.Records.Select(r => r.Offset));
    }

    [Fact]
    public void Decode_UnsortedOffsets_AreSortedStablyAndRepeatsDropped()
    {
        using var batch = Decode(Event(("t-0", [
            Record("t", 0, 5, JsonValue("{\"n\":1}")),
            Record("t", 0, 3, JsonValue("{\"n\":2}")),
            Record("t", 0, 5, JsonValue("{\"n\":3}")),
            Record("t", 0, 4, JsonValue("{\"n\":4}")),
        ])));
        var p = batch.Partitions[0];
        Assert.Equal([3L, 4, 5], p.Records.Select(r => r.Offset));
        Assert.Equal("{\"n\":1}", batch.Text(p.Records[2].Value));
        Assert.Equal(1, p.DuplicateOffsetsDropped);
    }

    [Fact]
    public void Decode_UnknownProperties_AreSkipped()
    {
        var rec = Record("t", 0, 1, JsonValue("{}"), extra: ""","future":{"x":[1,{"y":null}]},"other":"s\"" """);
        var json = """{"newTop":[1,2,{"a":{}}],"records":{"t-0":[""" + rec + """]},"eventSourceArn":"arn","more":null}""";
        using var batch = Decode(json);
        Assert.Equal("arn", batch.EventSourceArn);
        Assert.Null(batch.Partitions[0].Records[0].Error);
    }

    [Theory]
    [InlineData("topic")]
    [InlineData("partition")]
    [InlineData("offset")]
    public void Decode_RecordMissingPartOfItsIdentity_IsUnidentifiedNotMergedIntoTheMapKeysPartition(string missing)
    {
        var rec = Record("my-topic", 4, 1, JsonValue("{}"));
        var cut = missing switch
        {
            "topic" => rec.Replace("\"topic\":\"my-topic\",", "", StringComparison.Ordinal),
            "partition" => rec.Replace("\"partition\":4,", "", StringComparison.Ordinal),
            _ => rec.Replace("\"offset\":1,", "", StringComparison.Ordinal),
        };
        using var batch = Decode(Event(("my-topic-4", [cut, rec])));
        var p = Assert.Single(batch.Partitions);
        Assert.Equal([1L], p.Records.Select(r => r.Offset));
        Assert.Null(p.Records[0].Error);
        var u = Assert.Single(batch.Unidentified);
        Assert.Contains($"no valid '{missing}'", u.Record.Error, StringComparison.Ordinal);
        Assert.Equal(cut, batch.Text(u.Record.Value));
        Assert.Equal(2, batch.ReceivedRecordCount);
    }

    [Fact]
    public void Decode_RecordWithoutPartitionUnderAKeyThatIsNotTopicPartition_IsUnidentifiedNotAnEventError()
    {
        var rec = Record("t", 0, 1, JsonValue("{}")).Replace("\"partition\":0,", "", StringComparison.Ordinal);
        using var batch = Decode(Event(("nodash", [rec])));
        Assert.Empty(batch.Partitions);
        Assert.Equal("nodash", Assert.Single(batch.Unidentified).MapKey);
    }

    [Theory]
    [InlineData("[1,2]", 0)]
    [InlineData("\"text\"", 0)]
    [InlineData("", 0)]
    [InlineData("{\"records\":[]}", 11)]
    [InlineData("{\"records\":{\"t-0\":{}}}", 18)]
    [InlineData("{\"eventSource\":\"aws:kafka\"}", 26)]
    public void Decode_EventOfTheWrongShape_ThrowsEventFormatExceptionWithPosition(string json, long position)
    {
        var ex = Assert.Throws<EventFormatException>(() => Decode(json));
        Assert.Equal(position, ex.Position);
        Assert.IsAssignableFrom<FormatException>(ex);
    }

    [Fact]
    public void Decode_TruncatedEvent_ThrowsWithPosition()
    {
        var json = Event(("t-0", [Record("t", 0, 1, JsonValue("{}"))]));
        var truncated = json[..(json.Length - 20)];
        var ex = Assert.Throws<EventFormatException>(() => Decode(truncated));
        Assert.InRange(ex.Position, truncated.Length - 30, truncated.Length);
    }

    [Fact]
    public void Decode_TrailingGarbageAfterEvent_Throws()
    {
        var ex = Assert.Throws<EventFormatException>(() => Decode("""{"records":{}} x"""));
        Assert.Equal(15, ex.Position);
    }

    [Fact]
    public void Decode_NotJsonAtAll_Throws()
    {
        var ex = Assert.Throws<EventFormatException>(() => Decode("{\"records\": {\"t-0\": [ {\"topic\": tru"));
        Assert.Contains("byte", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_PrettyPrintedEvent_ReportsAbsolutePositions()
    {
        var ex = Assert.Throws<EventFormatException>(() => Decode("{\n  \"records\": {\n    \"t-0\": [ x ]\n  }\n}"));
        Assert.Equal(30, ex.Position); // the 'x'
    }

    [Fact]
    public void Dispose_ReturnsBuffers_AndLaterUseThrows()
    {
        var batch = Decode(Event(("t-0", [Record("t", 0, 1, JsonValue("{}"))])));
        var r = batch.Partitions[0].Records[0];
        batch.Dispose();
        batch.Dispose();
        Assert.Throws<ObjectDisposedException>(() => batch.Bytes(r.Value).Length);
    }

    [Theory]
    [InlineData("[1.5]")]
    [InlineData("[01]")]
    [InlineData("[256]")]
    [InlineData("[-129]")]
    [InlineData("[\"a\"]")]
    public void Decode_HeaderValuesThatAreNotBytes_AreRecordErrors(string array)
    {
        var rec = Record("t", 0, 1, JsonValue("{}")).Replace("\"headers\":[]", "\"headers\":[{\"h\":" + array + "}]", StringComparison.Ordinal);
        if (array == "[01]")
        {
            Assert.Throws<EventFormatException>(() => Decode(Event(("t-0", [rec])))); // not JSON at all
            return;
        }

        using var batch = Decode(Event(("t-0", [rec, Record("t", 0, 2, JsonValue("{}"))])));
        Assert.NotNull(batch.Partitions[0].Records[0].Error);
        Assert.Null(batch.Partitions[0].Records[1].Error);
    }

    [Fact]
    public void Decode_HeadersThenMalformedJson_ReportsAPositionNearTheFault()
    {
        var rec = Record("t", 0, 1, JsonValue("{}")).Replace("\"headers\":[]", "\"headers\":[{\"h\":[1,2,3]}]", StringComparison.Ordinal);
        var json = Event(("t-0", [rec]));
        var broken = json.Replace("[1,2,3]}]", "[1,2,3]}]]", StringComparison.Ordinal);
        var ex = Assert.Throws<EventFormatException>(() => Decode(broken));
        Assert.InRange(ex.Position, json.IndexOf("[1,2,3]", StringComparison.Ordinal), broken.Length);
    }
}

public class DecoderOddShapeTests
{
    private static string RecordWithout(string field) =>
        TestEvents.Record("t", 0, 5, TestEvents.JsonValue("{\"a\":1}")).Replace(field, string.Empty, StringComparison.Ordinal);

    [Fact]
    public void Decode_HeadersNullOrAbsent_GiveNoHeaders()
    {
        var nullHeaders = TestEvents.Record("t", 0, 5, TestEvents.JsonValue("{\"a\":1}")).Replace("\"headers\":[]", "\"headers\":null", StringComparison.Ordinal);
        var noHeaders = RecordWithout(",\"headers\":[]");

        foreach (var record in new[] { nullHeaders, noHeaders })
        {
            using var batch = TestEvents.Decode(TestEvents.Event(("t-0", [record])));

            var r = Assert.Single(Assert.Single(batch.Partitions).Records);
            Assert.Null(r.Error);
            Assert.Equal(0, r.HeaderCount);
        }
    }

    [Fact]
    public void Decode_TimestampTypeAbsent_IsNoTimestampType()
    {
        using var batch = TestEvents.Decode(TestEvents.Event(("t-0", [RecordWithout(",\"timestampType\":\"CREATE_TIME\"")])));

        var r = Assert.Single(Assert.Single(batch.Partitions).Records);
        Assert.Null(r.Error);
        Assert.Equal(TimestampType.NoTimestampType, r.TimestampType);
    }

    [Fact]
    public void Decode_SelfManagedKafkaEventWithoutArn_Decodes()
    {
        var json = """{"eventSource":"SelfManagedKafka","bootstrapServers":"b-1:9092","records":{"t-0":[""" + TestEvents.Record("t", 0, 1, TestEvents.JsonValue("{}")) + "]}}";

        using var batch = TestEvents.Decode(json);

        Assert.Null(batch.EventSourceArn);
        Assert.Equal(1, batch.RecordCount);
    }

    [Fact]
    public void Decode_TopicNameWithDashes_KeepsTheWholeName()
    {
        using var batch = TestEvents.Decode(TestEvents.Event(("my-topic-v2-3", [TestEvents.Record("my-topic-v2", 3, 1, TestEvents.JsonValue("{}"))])));

        var p = Assert.Single(batch.Partitions);
        Assert.Equal(("my-topic-v2", 3, "my-topic-v2-3"), (p.Topic, p.Partition, p.MapKey));
    }
}
