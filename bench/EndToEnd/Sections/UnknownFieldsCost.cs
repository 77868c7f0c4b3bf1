using System.Diagnostics;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Drift;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;
using MskClickHouse.EventGenerator;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>
/// Encode per batch with the unknown-field check off, at 1 in 100 (the default) and at 1 in 1 (every row), timed in
/// rotation on the same decoded batch, plus the sample scan alone on the encoded rows (many rounds: it is too small for
/// one Stopwatch reading).
/// </summary>
internal sealed record UnknownFieldsCostResult(int Records, int ValueBytes, List<double> OffMs, List<double> Sample100Ms, List<double> Sample1Ms, List<double> Ratio100, List<double> Ratio1, double Scan100Us, double Scan1Us, int Rows100);

/// <summary>Section 1's row for UNKNOWN_FIELDS_SAMPLE: what the check adds to the sink's CPU path (encode).</summary>
internal static class UnknownFieldsCost
{
    public static UnknownFieldsCostResult Run(BenchOptions options)
    {
        var shape = new TableShape(new TableName("default", "events"), MetadataColumnSets.ClickPipes, ValueFormat.Json, "value");
        var records = Math.Max(200, (int)(10_000 * options.DecodeScale));
        var payload = MskEventGenerator.Generate(42, records, 450, 2, 3, 0.01);
        using var batch = KafkaEventDecoder.Decode(payload);
        double Encode(int every)
        {
            var sample = every > 0 ? new FieldSample(every) : null;
            var w = Stopwatch.StartNew();
            foreach (var p in batch.Partitions)
            {
                using var encoded = RowEncoder.Encode(batch, p, shape, TombstonePolicy.Skip);
                sample?.Add(encoded);
            }

            return w.Elapsed.TotalMilliseconds;
        }

        var off = new List<double>();
        var s100 = new List<double>();
        var s1 = new List<double>();
        var r100 = new List<double>();
        var r1 = new List<double>();
        for (var i = 0; i < options.DecodeIterations + 2; i++)
        {
            // Rotate which goes first so that warm caches and GC favour none of them.
            double o = 0, a = 0, b = 0;
            foreach (var which in Enumerable.Range(0, 3).Select(k => (k + i) % 3))
            {
                switch (which)
                {
                    case 0: o = Encode(0); break;
                    case 1: a = Encode(100); break;
                    default: b = Encode(1); break;
                }
            }

            if (i >= 2)
            {
                off.Add(o);
                s100.Add(a);
                s1.Add(b);
                r100.Add(a / o);
                r1.Add(b / o);
            }
        }

        var encoded = batch.Partitions.Select(p => RowEncoder.Encode(batch, p, shape, TombstonePolicy.Skip)).ToList();
        try
        {
            var rows100 = 0;
            double Scan(int every, int rounds)
            {
                var w = Stopwatch.StartNew();
                for (var r = 0; r < rounds; r++)
                {
                    var sample = new FieldSample(every);
                    encoded.ForEach(sample.Add);
                    rows100 = sample.RowsScanned;
                }

                return w.Elapsed.TotalMilliseconds * 1000 / rounds;
            }

            Scan(100, 20);
            var scan100 = Scan(100, 2000);
            var rows = rows100;
            Scan(1, 2);
            var scan1 = Scan(1, 20);
            return new UnknownFieldsCostResult(records, 450, off, s100, s1, r100, r1, scan100, scan1, rows);
        }
        finally
        {
            encoded.ForEach(e => e.Dispose());
        }
    }
}
