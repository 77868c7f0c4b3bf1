using System.Text.Json;
using MskClickHouse.EventGenerator;

namespace MskClickHouse.Tools.Tests.EventGenerator;

/// <summary>What the generator promises its callers (the bench sizes its batches by it, the tests count on its spread).</summary>
public sealed class MskEventGeneratorTests
{
    [Fact]
    public void Generate_RecordsGoRoundRobinOverTopicsAndPartitions_WithConsecutiveOffsetsPerPartition()
    {
        using var doc = JsonDocument.Parse(MskEventGenerator.Generate(seed: 7, records: 14, valueBytes: 200, topics: 2, partitions: 3, badRecordRatio: 0));
        var partitions = doc.RootElement.GetProperty("records").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().ToList());

        Assert.Equal(["topic-a-0", "topic-a-1", "topic-a-2", "topic-b-0", "topic-b-1", "topic-b-2"], partitions.Keys);
        Assert.Equal([3, 3, 2, 2, 2, 2], partitions.Values.Select(r => r.Count));
        foreach (var (key, records) in partitions)
        {
            var first = records[0].GetProperty("offset").GetInt64();
            Assert.Equal(records.Select((_, i) => first + i), records.Select(r => r.GetProperty("offset").GetInt64()));
            Assert.All(records, r => Assert.Equal(key, $"{r.GetProperty("topic").GetString()}-{r.GetProperty("partition").GetInt32()}"));
        }
    }

    [Fact]
    public void Generate_BadRatio_MakesEveryNthRecordBad_InTurnTombstoneInvalidBase64ArrayBrokenJson()
    {
        using var doc = JsonDocument.Parse(MskEventGenerator.Generate(seed: 1, records: 40, valueBytes: 120, topics: 1, partitions: 1, badRecordRatio: 0.1));
        var values = doc.RootElement.GetProperty("records").GetProperty("topic-a-0").EnumerateArray().Select(r => r.GetProperty("value")).ToList();

        string Kind(JsonElement v)
        {
            if (v.ValueKind == JsonValueKind.Null)
            {
                return "tombstone";
            }

            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(v.GetString()!);
            }
            catch (FormatException)
            {
                return "invalid base64";
            }

            try
            {
                using var value = JsonDocument.Parse(bytes);
                return value.RootElement.ValueKind == JsonValueKind.Object ? "good" : "array";
            }
            catch (JsonException)
            {
                return "broken json";
            }
        }

        var kinds = values.Select(Kind).ToList();
        Assert.Equal(36, kinds.Count(k => k == "good"));
        Assert.Equal(["tombstone", "invalid base64", "array", "broken json"], kinds.Where(k => k != "good"));
        Assert.Equal([9, 19, 29, 39], kinds.Select((k, i) => (k, i)).Where(x => x.k != "good").Select(x => x.i));
    }

    [Theory]
    [InlineData(200)]
    [InlineData(2000)]
    public void Generate_ValuesAreJsonObjectsOfAboutTheRequestedSize(int valueBytes)
    {
        using var doc = JsonDocument.Parse(MskEventGenerator.Generate(seed: 3, records: 50, valueBytes: valueBytes, topics: 1, partitions: 2, badRecordRatio: 0));
        var sizes = doc.RootElement.GetProperty("records").EnumerateObject().SelectMany(p => p.Value.EnumerateArray())
            .Select(r => Convert.FromBase64String(r.GetProperty("value").GetString()!).Length).ToList();

        Assert.All(sizes, s => Assert.InRange(s, valueBytes * 0.9, valueBytes * 1.1));
    }
}
