using System.Diagnostics;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Hosting;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>Allocations and a time breakdown per batch of the Core handler run in this process.</summary>
internal sealed record InProcessResult(List<double> Allocated, List<Dictionary<string, double>> Breakdown, double DecodeEncodeMs);

/// <summary>
/// The Core handler in this process (SinkHandlerFactory.CreateAsync + HandleAsync) over a timing gateway, one batch of
/// section 2's size per repetition: what sections 4 (memory) and 7 (where the time goes) report.
/// </summary>
internal static class InProcessRun
{
    public static readonly string[] Kinds = ["state read", "state write", "state read-back", "row insert", "other query"];

    public static async Task<InProcessResult> RunAsync(BenchContext context, Workload workload, CancellationToken ct)
    {
        var db = await context.CreateDatabaseAsync("inproc", ct);
        await context.Engine.QueryAsync(Workload.CreateTable(db, "events"), ct);
        var env = context.Env(context.Engine.Url, db, "none");
        env["SINK_ID"] = "bench-inprocess";
        var sinkOptions = SinkOptionsParser.Parse(env);
        using var driver = new DriverClickHouseGateway(sinkOptions.Connection);
        var gateway = new TimingGateway(driver, sinkOptions.StateTable.Table);
        var handler = await SinkHandlerFactory.CreateAsync(sinkOptions, gateway, new NullLog(), new NullMetrics(), TimeProvider.System, ct);
        var allocated = new List<double>();
        var breakdown = new List<Dictionary<string, double>>();
        var decodeEncode = new List<double>();
        var shape = new TableShape(new TableName(db, "events"), MetadataColumnSets.ClickPipes, ValueFormat.Json, "value");
        for (var rep = 0; rep <= context.Options.Repetitions; rep++)
        {
            var mskEvent = workload.Event(100 + rep);
            var invocation = new InvocationContext($"bench-{rep}", DateTimeOffset.UtcNow.AddMinutes(5), "arn:aws:lambda:eu-west-1:123456789012:function:bench", null);
            gateway.TakeCalls();
            var start = gateway.NowMs;
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var response = await handler.HandleAsync(invocation, mskEvent, ct);
            var alloc = GC.GetTotalAllocatedBytes(precise: true) - before;
            var total = gateway.NowMs - start;
            if (System.Text.Encoding.UTF8.GetString(response) != """{"batchItemFailures":[]}""")
            {
                throw new InvalidOperationException("in-process handler reported failures: " + System.Text.Encoding.UTF8.GetString(response));
            }

            var calls = gateway.TakeCalls();
            var w = Stopwatch.StartNew();
            using (var batch = KafkaEventDecoder.Decode(mskEvent))
            {
                foreach (var p in batch.Partitions)
                {
                    using var encoded = RowEncoder.Encode(batch, p, shape, TombstonePolicy.Skip);
                }
            }

            var de = w.Elapsed.TotalMilliseconds;
            if (rep == 0)
            {
                continue;
            }

            allocated.Add(alloc);
            decodeEncode.Add(de);
            var row = new Dictionary<string, double> { ["total"] = total };
            foreach (var kind in Kinds)
            {
                row[kind] = Stats.UnionLength(calls.Where(c => c.Kind == kind).Select(c => (c.Start, c.End)));
                row[kind + " calls"] = calls.Count(c => c.Kind == kind);
            }

            row["clickhouse (any call)"] = Stats.UnionLength(calls.Select(c => (c.Start, c.End)));
            row["outside ClickHouse calls"] = total - row["clickhouse (any call)"];
            breakdown.Add(row);
        }

        (handler as IDisposable)?.Dispose();
        return new InProcessResult(allocated, breakdown, Stats.Median(decodeEncode));
    }
}
