using System.Text;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;
using MskClickHouse.EventGenerator;

namespace MskClickHouse.Core.Tests.Events;

public sealed class GeneratedEventTests
{
    [Fact]
    public void Generate_SameSeed_SameBytes()
    {
        Assert.Equal(MskEventGenerator.Generate(7, 50, 200, 2, 2, 0.1), MskEventGenerator.Generate(7, 50, 200, 2, 2, 0.1));
    }

    [Fact]
    public void DecodeAndEncode_GeneratedEvent_EveryGoodRecordIsOneValidRowAndBadOnesAreRejected()
    {
        var payload = MskEventGenerator.Generate(seed: 1, records: 2_000, valueBytes: 300, topics: 3, partitions: 4, badRecordRatio: 0.05, headersPerRecord: 2);
        using var batch = KafkaEventDecoder.Decode(payload);
        Assert.Equal(12, batch.Partitions.Count);
        Assert.Equal(2_000, batch.RecordCount);

        var shape = new TableShape(new TableName("db", "t"), MetadataColumnSets.ClickPipes, ValueFormat.Json, "value");
        int rows = 0, rejected = 0, tombstones = 0;
        foreach (var partition in batch.Partitions)
        {
            Assert.Equal(partition.Topic + "-" + partition.Partition, partition.MapKey);
            using var encoded = RowEncoder.Encode(batch, partition, shape, TombstonePolicy.Skip);
            rows += encoded.RowCount;
            rejected += encoded.Rejected.Count;
            tombstones += encoded.TombstonesSkipped;
            for (var i = 0; i < encoded.RowCount; i++)
            {
                var row = encoded.Row(i).Span;
                Assert.Equal((byte)'\n', row[^1]);
                Assert.Equal(-1, row[..^1].IndexOfAny((byte)'\n', (byte)'\r'));
                using var doc = JsonDocument.Parse(row.ToArray());
                Assert.Equal(encoded.RowOffsets[i], doc.RootElement.GetProperty("_offset").GetInt64());
                Assert.Equal(partition.Topic, doc.RootElement.GetProperty("_topic").GetString());
                Assert.Equal("application/json", doc.RootElement.GetProperty("_headers").GetProperty("content-type").GetString());
            }
        }

        Assert.Equal(100, rejected + tombstones);
        Assert.Equal(25, tombstones);
        Assert.Equal(1_900, rows);
        _ = Encoding.UTF8;
    }
}
