using MskClickHouse.Core.Events;
using MskClickHouse.Core.Replay;

namespace MskClickHouse.Core.Tests.Replay;

public class ReplayEventTests
{
    /// <summary>Binary bytes a dead-letter String column keeps as they are: NUL, invalid UTF-8, quotes, backslashes, controls.</summary>
    private static readonly byte[] Binary = [0x00, 0xff, 0xfe, (byte)'"', (byte)'\\', 0x80, (byte)'\n', 0x1f, (byte)'a', 0xc3, 0xa9];

    [Fact]
    public void Build_DecodesToTheSameRecordBytes()
    {
        var letters = new[]
        {
            new DeadLetterRecord("arn:aws:kafka:eu-west-1:1:cluster/a/b", "orders", 3, 41, 0, 1_764_082_800_123, "LOG_APPEND_TIME", Convert.ToBase64String(Binary), Convert.ToBase64String(Binary.Reverse().ToArray()),
                [new(Convert.ToBase64String("trace"u8.ToArray()), Convert.ToBase64String(Binary)), new(Convert.ToBase64String("é"u8.ToArray()), string.Empty)], "e"),
            new DeadLetterRecord("arn:aws:kafka:eu-west-1:1:cluster/a/b", "orders", 3, 40, 2, 0, string.Empty, null, null, [], "e"),
        };

        using var batch = KafkaEventDecoder.Decode(ReplayEvent.Build(letters));

        Assert.Equal("arn:aws:kafka:eu-west-1:1:cluster/a/b", batch.SourceName);
        var p = Assert.Single(batch.Partitions);
        Assert.Equal(("orders", 3), (p.Topic, p.Partition));
        Assert.Equal([40L, 41L], p.Records.Select(r => r.Offset));
        var tombstone = p.Records[0];
        Assert.True(tombstone.IsTombstone);
        Assert.True(tombstone.Key.IsNull);
        Assert.Equal(TimestampType.NoTimestampType, tombstone.TimestampType);
        var r = p.Records[1];
        Assert.Null(r.Error);
        Assert.Equal(Binary, batch.Bytes(r.Key).ToArray());
        Assert.Equal(Binary.Reverse().ToArray(), batch.Bytes(r.Value).ToArray());
        Assert.Equal(1_764_082_800_123, r.TimestampMs);
        Assert.Equal(TimestampType.LogAppendTime, r.TimestampType);
        var headers = batch.HeadersOf(r).ToArray();
        Assert.Equal(2, headers.Length);
        Assert.Equal("trace"u8.ToArray(), batch.Bytes(headers[0].Name).ToArray());
        Assert.Equal(Binary, batch.Bytes(headers[0].Value).ToArray());
        Assert.Equal("é"u8.ToArray(), batch.Bytes(headers[1].Name).ToArray());
        Assert.Equal(0, headers[1].Value.Length);
    }

    [Fact]
    public void Build_LettersOfTwoPartitions_Throws()
    {
        var a = ReplayTokenTests.Letter();
        Assert.Throws<ArgumentException>(() => ReplayEvent.Build([a, a with { Partition = 9 }]));
    }
}
