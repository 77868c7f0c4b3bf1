using System.Text;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Tests.Events;

public sealed class SampleEventTests
{
    [Fact]
    public void Decode_DeveloperGuideMskExample_ReadsEveryField()
    {
        using var batch = TestEvents.Decode(TestEvents.Fixture("aws-lambda-developer-guide_with-msk_example.json"));

        Assert.Equal("aws:kafka", batch.EventSource);
        Assert.Equal("arn:aws:kafka:sa-east-1:123456789012:cluster/vpc-2priv-2pub/751d2973-a626-431c-9d4e-d7975eb44dd7-2", batch.EventSourceArn);
        Assert.StartsWith("b-2.demo-cluster-1", batch.BootstrapServers, StringComparison.Ordinal);
        var p = Assert.Single(batch.Partitions);
        Assert.Equal(("mytopic", 0, "mytopic-0"), (p.Topic, p.Partition, p.MapKey));
        var r = Assert.Single(p.Records);
        Assert.Null(r.Error);
        Assert.Equal(15, r.Offset);
        Assert.Equal(1545084650987, r.TimestampMs);
        Assert.Equal(TimestampType.CreateTime, r.TimestampType);
        Assert.Equal("Hello, this is a test.", batch.Text(r.Value));
        // The sample's key is not canonical base64 (its last character has bits beyond the data): decoded leniently,
        // as Java and Python decoders do, rather than dead-lettered.
        Assert.Equal(Convert.FromBase64String("abcDEFghiJKLmnoPQRstuVWXyz123w=="), batch.Bytes(r.Key).ToArray());
        var h = Assert.Single(batch.HeadersOf(r).ToArray());
        Assert.Equal("headerKey", batch.Text(h.Name));
        Assert.Equal("headerValue", batch.Text(h.Value));
        Assert.Equal(1545084650987, batch.OldestTimestampMs);
        Assert.Equal(1, batch.RecordCount);
    }

    [Fact]
    public void Decode_DotnetSample_GroupsByTheRecordsOwnPartitionAndKeepsTheMapKey()
    {
        using var batch = TestEvents.Decode(TestEvents.Fixture("aws-lambda-dotnet_EventsTests_kafka-event.json"));

        var p = Assert.Single(batch.Partitions);
        Assert.Equal("mytopic", p.Topic);
        Assert.Equal(12, p.Partition);
        Assert.Equal("mytopic-0", p.MapKey);
        var r = Assert.Single(p.Records);
        Assert.Equal(3043205, r.Offset);
        Assert.Equal("338646672", batch.Text(r.Key));
    }

    [Fact]
    public void Decode_DotnetSample_DecodesItsEightSignedByteHeaders()
    {
        using var batch = TestEvents.Decode(TestEvents.Fixture("aws-lambda-dotnet_EventsTests_kafka-event.json"));
        var r = batch.Partitions[0].Records[0];
        var headers = batch.HeadersOf(r).ToArray().Select(h => (batch.Text(h.Name), batch.Bytes(h.Value).ToArray())).ToArray();

        Assert.Equal(8, headers.Length);
        Assert.Equal(["headerKey", "Id", "ModelType", "Version", "IsFullBuild", "IsLowPriority", "OriginationTimestamp", "traceparent"], headers.Select(h => h.Item1));
        Assert.Equal("headerValue"u8.ToArray(), headers[0].Item2);
        Assert.Equal("709e49b6-998d-4c0c-8ef7-b98cfafed08b"u8.ToArray(), headers[1].Item2);
        Assert.Equal("ResidentialProduct_AgentDetail"u8.ToArray(), headers[2].Item2);
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 3 }, headers[3].Item2);
        Assert.Equal(new byte[] { 1 }, headers[4].Item2);
        Assert.Equal(new byte[] { 1 }, headers[5].Item2);
        Assert.Equal(new byte[] { 0, 0, 1, 133, 245, 175, 206, 254 }, headers[6].Item2);
        Assert.Equal("00-691cce72f274a6d68af668f63ab4a9c1-5aa29b6ca3a1e92f-00"u8.ToArray(), headers[7].Item2);
    }

    [Fact]
    public void Decode_PowertoolsGettingStarted_ReadsThreeJsonValues()
    {
        using var batch = TestEvents.Decode(TestEvents.Fixture("powertools-python_getting_started_kafka_event.json"));
        var p = Assert.Single(batch.Partitions);
        Assert.Equal([0L, 1L, 2L], p.Records.Select(r => r.Offset));
        Assert.Equal(["1", "2", "3"], p.Records.Select(r => batch.Text(r.Key)));
        Assert.Equal("{\"message\": \"Failure\"}", batch.Text(p.Records[1].Value));
        Assert.All(p.Records, r => Assert.Equal(0, r.HeaderCount));
        Assert.Equal(1545084650987, batch.OldestTimestampMs);
    }

    [Fact]
    public void Decode_SchemaMetadataSample_KeepsOneOfTheRepeatedOffsets()
    {
        using var batch = TestEvents.Decode(TestEvents.Fixture("powertools-python_kafkaEventMsk_with_schema_metadata.json"));
        var p = Assert.Single(batch.Partitions);

        var r = Assert.Single(p.Records);
        Assert.Equal(2, p.DuplicateOffsetsDropped);
        Assert.Equal(3, batch.ReceivedRecordCount);
        Assert.Equal(15, r.Offset);
        Assert.Equal("recordKey", batch.Text(r.Key)); // the first copy is kept
        Assert.True(r.HasSchemaMetadata);
        Assert.Equal(SchemaDataFormat.Avro, r.ValueSchemaFormat);
        Assert.Equal("{\"key\":\"value\"}", batch.Text(r.Value));
    }

    [Fact]
    public void Decode_SchemaMetadataSample_NullAndAbsentKeysAreBothNull()
    {
        // Same records with distinct offsets so none is dropped.
        var json = TestEvents.Fixture("powertools-python_kafkaEventMsk_with_schema_metadata.json");
        var first = json.IndexOf("\"offset\": 15", StringComparison.Ordinal);
        var second = json.IndexOf("\"offset\": 15", first + 1, StringComparison.Ordinal);
        var third = json.IndexOf("\"offset\": 15", second + 1, StringComparison.Ordinal);
        var sb = new StringBuilder(json);
        sb.Replace("\"offset\": 15", "\"offset\": 17", third, 12);
        sb.Replace("\"offset\": 15", "\"offset\": 16", second, 12);
        using var batch = TestEvents.Decode(sb.ToString());

        var records = batch.Partitions[0].Records;
        Assert.Equal(3, records.Length);
        Assert.False(records[0].Key.IsNull);
        Assert.True(records[1].Key.IsNull); // absent
        Assert.True(records[2].Key.IsNull); // "key": null
        Assert.All(records, r => Assert.False(r.IsTombstone));
    }

    [Fact]
    public void Encode_SchemaMetadataSampleWithJsonRecordFormat_IsARow()
    {
        using var batch = TestEvents.Decode(TestEvents.Fixture("powertools-python_kafkaEventMsk_with_schema_metadata.json"));
        var shape = new TableShape(new MskClickHouse.Core.ClickHouse.TableName("db", "t"), MetadataColumns.Offset, ValueFormat.Json, "value");
        using var encoded = RowEncoder.Encode(batch, batch.Partitions[0], shape, TombstonePolicy.Skip);

        Assert.Equal("{\"_offset\":15,\"key\":\"value\"}\n", Encoding.UTF8.GetString(encoded.Buffer.Span));
    }
}
