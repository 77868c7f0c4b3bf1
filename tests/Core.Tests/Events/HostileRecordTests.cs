using System.Text;
using MskClickHouse.Core.Events;
using static MskClickHouse.Core.Tests.Events.TestEvents;

namespace MskClickHouse.Core.Tests.Events;

/// <summary>
/// Issue #29: whatever is wrong inside a record stays that record's error (its partition's other records decode);
/// only an envelope that is not a Kafka event fails the whole event, with a byte position.
/// </summary>
public sealed class HostileRecordTests
{
    private static string Good(long offset) => Record("t", 0, offset, JsonValue("{\"n\":" + offset + "}"));

    [Theory]
    [InlineData("\"key\":5,\"value\":{}")] // reproduction 1: the second wrong field is an object
    [InlineData("\"key\":{\"a\":[1,{}]},\"value\":[[],{}]")]
    [InlineData("\"key\":true,\"value\":[1],\"headers\":{},\"timestamp\":{\"x\":1}")]
    [InlineData("\"timestamp\":[],\"headers\":[[1],{\"h\":{}},5],\"value\":{}")]
    [InlineData("\"value\":\"not base64!\",\"key\":[{}]")]
    public void Decode_ManyWronglyTypedFieldsOfAnyShape_DeadLetterOnlyThatRecord(string fields)
    {
        var bad = $$"""{"topic":"t","partition":0,"offset":2,{{fields}}}""";
        using var batch = Decode(Event(("t-0", [Good(1), bad, Good(3)])));
        var p = Assert.Single(batch.Partitions);
        Assert.Equal([1L, 2, 3], p.Records.Select(r => r.Offset));
        Assert.Null(p.Records[0].Error);
        Assert.NotNull(p.Records[1].Error);
        Assert.Equal(bad, batch.Text(p.Records[1].Value));
        Assert.Null(p.Records[2].Error);
        Assert.Equal("{\"n\":3}", batch.Text(p.Records[2].Value));
    }

    [Fact]
    public void Decode_ADeeplyNestedValueInARecord_IsThatRecordsError()
    {
        var deep = new string('[', 10_000) + new string(']', 10_000);
        var bad = $$"""{"topic":"t","partition":0,"offset":2,"value":{{deep}},"extra":{{deep}}}""";
        using var batch = Decode(Event(("t-0", [Good(1), bad, Good(3)])));
        var p = Assert.Single(batch.Partitions);
        Assert.Contains("field 'value' is an array", p.Records[1].Error, StringComparison.Ordinal);
        Assert.Null(p.Records[2].Error);
    }

    [Theory]
    [InlineData("{\"topic\":\"t\\ud800\",\"partition\":0,\"offset\":2}", "field 'topic'")] // reproduction 2
    [InlineData("{\"topic\":\"t\",\"partition\":0,\"offset\":2,\"headers\":[{\"h\\ud800\":[1]}]}", "a header name")]
    [InlineData("{\"topic\":\"t\",\"partition\":0,\"offset\":2,\"value\":\"e30\\ud800\"}", "field 'value'")]
    [InlineData("{\"topic\":\"t\",\"partition\":0,\"offset\":2,\"key\":\"\\udc00\"}", "field 'key'")]
    [InlineData("{\"topic\":\"t\",\"partition\":0,\"offset\":2,\"timestampType\":\"\\ud800\"}", "field 'timestampType'")]
    [InlineData("{\"topic\":\"t\",\"partition\":0,\"offset\":2,\"x\\ud800\":1}", "a field name")]
    [InlineData("{\"topic\":\"t\",\"partition\":0,\"offset\":2,\"valueSchemaMetadata\":{\"dataFormat\":\"\\ud800\"}}", "field 'dataFormat'")]
    public void Decode_ALoneSurrogateEscapeInARecord_IsThatRecordsError(string bad, string where)
    {
        using var batch = Decode(Event(("t-0", [Good(1), bad, Good(3)])));
        var all = batch.Partitions.SelectMany(p => p.Records).Select(r => r.Error).Concat(batch.Unidentified.Select(u => u.Record.Error)).Where(e => e is not null).ToList();
        var error = Assert.Single(all);
        Assert.Contains(where + " is not valid Unicode", error, StringComparison.Ordinal);
        var good = batch.Partitions.Single(p => p.Topic == "t").Records.Where(r => r.Error is null).Select(r => r.Offset);
        Assert.Equal([1L, 3], good);
    }

    [Fact]
    public void Decode_InvalidUtf8InATopic_IsThatRecordsError()
    {
        var json = Encoding.UTF8.GetBytes(Event(("t-0", [Good(1), Record("tXX", 0, 2, JsonValue("{}"))])));
        var at = Encoding.UTF8.GetString(json).IndexOf("tXX", StringComparison.Ordinal);
        json[at + 1] = 0xFF;
        json[at + 2] = 0xFE;
        using var batch = KafkaEventDecoder.Decode(json);
        Assert.Equal([1L], Assert.Single(batch.Partitions).Records.Select(r => r.Offset));
        Assert.Contains("field 'topic' is not valid Unicode", Assert.Single(batch.Unidentified).Record.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"records\":{\"t-0\\ud800\":[]}}", 12, "a key of 'records'")]
    [InlineData("{\"eventSource\":\"\\ud800\",\"records\":{}}", 15, "'eventSource'")]
    [InlineData("{\"eventSourceArn\":\"a\\udfff\",\"records\":{}}", 18, "'eventSourceArn'")]
    [InlineData("{\"bootstrapServers\":\"\\ud800\",\"records\":{}}", 20, "'bootstrapServers'")]
    [InlineData("{\"x\\ud800\":1,\"records\":{}}", 1, "a property name of the event")]
    public void Decode_ALoneSurrogateEscapeOutsideTheRecords_IsAnEventErrorWithItsPosition(string json, long position, string what)
    {
        var ex = Assert.Throws<EventFormatException>(() => Decode(json));
        Assert.Equal(position, ex.Position);
        Assert.Contains(what + " is not valid Unicode", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")] // missing
    [InlineData("\"offset\":null,")]
    [InlineData("\"offset\":\"7\",")]
    [InlineData("\"offset\":-3,")]
    [InlineData("\"offset\":1.5,")]
    [InlineData("\"offset\":{\"a\":[1]},")]
    public void Decode_RecordsWithoutAValidOffset_AreEachUnidentifiedUnderTheirOwnPosition(string offset)
    {
        // Reproduction 3: two offset-less records in one partition, both kept, each under its own place.
        var cut = Record("t", 0, 0, JsonValue("{}")).Replace("\"offset\":0,", offset, StringComparison.Ordinal);
        var json = Event(("t-0", [Good(1), cut, cut, Good(2)]));
        using var batch = Decode(json);
        Assert.Equal([1L, 2], Assert.Single(batch.Partitions).Records.Select(r => r.Offset));
        Assert.Equal(2, batch.Unidentified.Count);
        Assert.NotEqual(batch.Unidentified[0].DeadLetterOffset, batch.Unidentified[1].DeadLetterOffset);
        Assert.All(batch.Unidentified, u =>
        {
            Assert.Equal(("t", 0), (u.Topic, u.Partition));
            Assert.True(u.DeadLetterOffset < 0);
            Assert.Equal(cut, batch.Text(u.Record.Value));
            Assert.Contains("no valid 'offset'", u.Record.Error, StringComparison.Ordinal);
            Assert.Equal((int)u.Position, json.IndexOf(cut, (int)u.Position, StringComparison.Ordinal));
        });
        Assert.Equal(4, batch.ReceivedRecordCount);
    }

    [Fact]
    public void Decode_AValidThenAnInvalidRepeatOfTheOffsetField_IsUnidentified()
    {
        var rec = Record("t", 0, 5, JsonValue("{}"), extra: ",\"offset\":\"x\",\"partition\":-1");
        using var batch = Decode(Event(("t-0", [rec])));
        Assert.Empty(batch.Partitions);
        Assert.Contains("no valid 'partition', 'offset'", Assert.Single(batch.Unidentified).Record.Error, StringComparison.Ordinal);
    }
}
