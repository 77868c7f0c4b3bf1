using System.Text;
using System.Text.Json;
using MskClickHouse.LocalRun;

namespace MskClickHouse.Tools.Tests.LocalRun;

/// <summary>The run's re-delivery and its two printed checks.</summary>
public sealed class ExactlyOnceChecksTests
{
    [Fact]
    public void LastBatchPerPartition_OneEventPerSourceCluster_EachPartitionFromTheLastBatchThatCarriedIt()
    {
        var batches = new List<byte[]>
        {
            Event("arn:cluster/a", ("orders-0", [0, 1]), ("orders-1", [0])),
            Event("arn:cluster/b", ("orders-0", [5])),
            Event("arn:cluster/a", ("orders-0", [2, 3])),
        };

        var events = ExactlyOnceChecks.LastBatchPerPartition(batches).Select(Parse).ToList();

        Assert.Equal(2, events.Count);
        Assert.Equal("arn:cluster/a orders-0=2,3 orders-1=0", events[0]);
        Assert.Equal("arn:cluster/b orders-0=5", events[1]);
    }

    [Fact]
    public async Task Checks_PrintOkOrFailed_AndSayWhetherTheyHeld()
    {
        using var output = new StringWriter();
        List<(string Table, long Rows)> before = [("orders", 10), ("kafka_dead_letters", 1)];

        Assert.True(await ExactlyOnceChecks.RedeliveryAddedNothingAsync(before, [("orders", 10), ("kafka_dead_letters", 1)], output));
        Assert.False(await ExactlyOnceChecks.RedeliveryAddedNothingAsync(before, [("orders", 12), ("kafka_dead_letters", 1)], output));
        var generate = LocalRunOptions.Parse(["--generate", "11", "--partitions", "2"]);
        Assert.False(await ExactlyOnceChecks.EveryRecordLandedOnceAsync(before, generate, output));

        Assert.Equal(
            "OK    re-delivery added nothing: orders 10, kafka_dead_letters 1\n" +
            "FAILED re-delivery added nothing: orders 12, kafka_dead_letters 1\n" +
            "FAILED every generated record landed exactly once (rows + dead letters = 11, produced 12)\n",
            output.ToString().ReplaceLineEndings("\n"));
    }

    private static byte[] Event(string source, params (string MapKey, long[] Offsets)[] partitions)
    {
        var records = partitions.Select(p => $"\"{p.MapKey}\":[" + string.Join(',', p.Offsets.Select(o => "{\"topic\":\"orders\",\"offset\":" + o + "}")) + "]");
        return Encoding.UTF8.GetBytes("{\"eventSource\":\"aws:kafka\",\"eventSourceArn\":\"" + source + "\",\"records\":{" + string.Join(',', records) + "}}");
    }

    /// <summary>"source mapKey=offset,offset ..." in the event's order.</summary>
    private static string Parse(byte[] payload)
    {
        using var doc = JsonDocument.Parse(payload);
        var partitions = doc.RootElement.GetProperty("records").EnumerateObject()
            .Select(p => p.Name + "=" + string.Join(',', p.Value.EnumerateArray().Select(r => r.GetProperty("offset").GetInt64())));
        return doc.RootElement.GetProperty("eventSourceArn").GetString() + " " + string.Join(' ', partitions);
    }
}
