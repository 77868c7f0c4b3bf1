using BenchmarkDotNet.Attributes;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;
using MskClickHouse.EventGenerator;

namespace MskClickHouse.Benchmarks;

/// <summary>Decoding a whole Lambda MSK event, and decoding plus encoding every partition with all metadata columns.</summary>
[MemoryDiagnoser]
public class DecodeBenchmarks
{
    private byte[] payload = [];
    private TableShape shape = null!;

    /// <summary>Records × value bytes, over 2 topics × 3 partitions, 1% bad records, one small header per record.</summary>
    [Params("10000x450B", "60000x80B", "1000x5KB")]
    public string Scenario { get; set; } = "10000x450B";

    public static (int Records, int ValueBytes) Parse(string scenario) => scenario switch
    {
        "10000x450B" => (10_000, 450),
        "60000x80B" => (60_000, 80),
        "1000x5KB" => (1_000, 5_000),
        _ => throw new ArgumentOutOfRangeException(nameof(scenario), scenario, "unknown scenario"),
    };

    public int PayloadBytes => payload.Length;

    [GlobalSetup]
    public void Setup()
    {
        var (records, valueBytes) = Parse(Scenario);
        payload = MskEventGenerator.Generate(seed: 42, records, valueBytes, topics: 2, partitions: 3, badRecordRatio: 0.01);
        shape = new TableShape(new TableName("default", "events"), MetadataColumnSets.ClickPipes, ValueFormat.Json, "value");
    }

    [Benchmark(Baseline = true)]
    public int Decode()
    {
        using var batch = KafkaEventDecoder.Decode(payload);
        return batch.RecordCount;
    }

    [Benchmark]
    public int DecodeAndEncode()
    {
        using var batch = KafkaEventDecoder.Decode(payload);
        var bytes = 0;
        foreach (var partition in batch.Partitions)
        {
            using var encoded = RowEncoder.Encode(batch, partition, shape, TombstonePolicy.Skip);
            bytes += encoded.ByteCount;
        }

        return bytes;
    }
}
