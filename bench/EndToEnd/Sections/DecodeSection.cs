using System.Diagnostics;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;
using MskClickHouse.EventGenerator;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>One decode shape: Stopwatch samples of Decode and of Decode + Encode, allocation of the last batch.</summary>
internal sealed record DecodeShape(int Records, int ValueBytes, string Note, int EventBytes, List<double> DecodeMs, List<double> DecodeEncodeMs, long AllocatedBytes);

internal sealed record DecodeResult(List<DecodeShape> Shapes);

/// <summary>Section 1: KafkaEventDecoder.Decode and Decode + RowEncoder.Encode in this process.</summary>
internal static class DecodeSection
{
    public static DecodeResult Run(BenchOptions options)
    {
        var shapes = new List<DecodeShape>();
        var shape = new TableShape(new TableName("default", "events"), MetadataColumnSets.ClickPipes, ValueFormat.Json, "value");
        foreach (var (records, valueBytes, note) in new[] { (10_000, 450, ""), (60_000, 80, " (not a real invocation size)"), (1_000, 5_000, "") })
        {
            var n = Math.Max(6, (int)(records * options.DecodeScale));
            var payload = MskEventGenerator.Generate(42, n, valueBytes, 2, 3, 0.01);
            var decode = new List<double>();
            var both = new List<double>();
            long allocated = 0;
            for (var i = 0; i < options.DecodeIterations + 2; i++)
            {
                var w = Stopwatch.StartNew();
                using (KafkaEventDecoder.Decode(payload))
                {
                }

                var d = w.Elapsed.TotalMilliseconds;
                var before = GC.GetAllocatedBytesForCurrentThread();
                w.Restart();
                using (var batch = KafkaEventDecoder.Decode(payload))
                {
                    foreach (var p in batch.Partitions)
                    {
                        using var encoded = RowEncoder.Encode(batch, p, shape, TombstonePolicy.Skip);
                    }
                }

                var b = w.Elapsed.TotalMilliseconds;
                var alloc = GC.GetAllocatedBytesForCurrentThread() - before;
                if (i >= 2)
                {
                    decode.Add(d);
                    both.Add(b);
                    allocated = alloc;
                }
            }

            shapes.Add(new DecodeShape(n, valueBytes, note, payload.Length, decode, both, allocated));
        }

        return new DecodeResult(shapes);
    }
}
