using System.Diagnostics;
using System.Runtime;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Routing;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>
/// Routing's CPU cost on the end-to-end batch (the 6 MB event of <see cref="Workload"/>): route and encode every
/// partition (<see cref="RowEncoder.EncodeRouted"/>, the sink's encode step) routed by topic (one table), by field
/// (the value's <c>event</c> field, one table per event type: the same rows as by topic, split six ways), and by field with fan-out (the six tables plus one all-events table: twice the
/// rows), timed in rotation on the same decoded batch after a warm-up that lasts until the JIT has stopped compiling;
/// by topic into the same six tables as by field (the records on a topic per type), alternating with by field;
/// the batch's whole CPU path in the function by topic and by field (decoding the event, then the same route and encode:
/// what a batch costs before its requests); plus the split alone (<see cref="TopicRouter.Route"/>, the fastest of 20 rounds).
/// </summary>
/// <param name="WarmUpRounds">Rotated rounds run before timing (until the JIT was quiet, <see cref="RoutingCost.WarmUp"/>).</param>
/// <param name="MethodsCompiledWhileTimed">Methods the JIT compiled during the timed repetitions: 0 when they timed steady-state code only.</param>
/// <param name="BatchTopicMs">Decode + route + encode by topic, per repetition.</param>
/// <param name="BatchFieldRatio">Decode + route + encode, by field / by topic, per repetition.</param>
/// <param name="TopicPerTypeMs">Route + encode by topic into the six tables of by field: the same records on a topic per type (<see cref="Workload.TopicPerType"/>).</param>
/// <param name="FieldBesidePerTypeMs">Route + encode by field, timed alternating with <paramref name="TopicPerTypeMs"/>.</param>
/// <param name="FieldOverTopicPerTypeRatio">By field / by topic into the same six tables, per repetition.</param>
internal sealed record RoutingCostResult(int Records, int EventBytes, List<double> TopicMs, List<double> FieldMs, List<double> FanOutMs, List<double> FieldRatio, List<double> FanOutRatio, double SplitByFieldUs, long RowsByTopic, long RowsByField, long RowsFanOut, int WarmUpRounds, long MethodsCompiledWhileTimed, List<double> BatchTopicMs, List<double> BatchFieldMs, List<double> BatchFieldRatio, List<double> TopicPerTypeMs, List<double> FieldBesidePerTypeMs, List<double> FieldOverTopicPerTypeRatio, long RowsTopicPerType);

/// <summary>Section 1's row for ROUTES: what routing by a field adds to the sink's CPU path (route + encode).</summary>
internal static class RoutingCost
{
    /// <summary>The generated values' <c>event</c> types (tools/EventGenerator).</summary>
    internal static readonly string[] EventTypes = ["page_view", "click", "purchase", "signup", "logout", "search"];

    public static RoutingCostResult Run(BenchOptions options, Workload workload)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(workload);
        var payload = workload.Event(0);
        using var batch = KafkaEventDecoder.Decode(payload);
        using var perTypeBatch = KafkaEventDecoder.Decode(Workload.TopicPerType(payload));
        var byTopic = Router(null, allEvents: false);
        var byTopicPerType = TopicPerTypeRouter();
        var byField = Router(EventTypes, allEvents: false);
        var fanOut = Router(EventTypes, allEvents: true);
        long rowsTopic = 0, rowsField = 0, rowsFanOut = 0, rowsPerType = 0;
        static long RouteAndEncode(KafkaBatch batch, TopicRouter router)
        {
            var rows = 0L;
            foreach (var p in batch.Partitions)
            {
                // As the sink does (RoutedUnits.Encode): every table of the partition in one pass over it, each record
                // written to the tables the split chose.
                var routing = router.Route(batch, p);
                var units = routing.Routed.Select(r => (r.Records, router.ShapeFor(p.Topic, r.Table, MetadataColumnSets.ClickPipes))).ToList();
                foreach (var encoded in RowEncoder.EncodeRouted(batch, p, units, TombstonePolicy.Skip, null, routing.Targets))
                {
                    rows += encoded.RowCount;
                    encoded.Dispose();
                }
            }

            return rows;
        }

        double Time(TopicRouter router, ref long rows, KafkaBatch? other = null)
        {
            var w = Stopwatch.StartNew();
            rows = RouteAndEncode(other ?? batch, router);
            return w.Elapsed.TotalMilliseconds;
        }

        double TimeBatch(TopicRouter router)
        {
            var w = Stopwatch.StartNew();
            using (var decoded = KafkaEventDecoder.Decode(payload))
            {
                RouteAndEncode(decoded, router);
            }

            return w.Elapsed.TotalMilliseconds;
        }

        double t = 0, f = 0, o = 0;
        void Round(int i)
        {
            // Rotate which goes first so that warm caches and GC favour none of them.
            foreach (var which in Enumerable.Range(0, 3).Select(k => (k + i) % 3))
            {
                switch (which)
                {
                    case 0: t = Time(byTopic, ref rowsTopic); break;
                    case 1: f = Time(byField, ref rowsField); break;
                    default: o = Time(fanOut, ref rowsFanOut); break;
                }
            }
        }

        var warmUp = WarmUp(Round);
        var topicMs = new List<double>();
        var fieldMs = new List<double>();
        var fanOutMs = new List<double>();
        var fieldRatio = new List<double>();
        var fanOutRatio = new List<double>();
        var perTypeMs = new List<double>();
        var fieldBesidePerType = new List<double>();
        var fieldOverPerType = new List<double>();
        var compiled = JitInfo.GetCompiledMethodCount();
        for (var i = 0; i < options.DecodeIterations; i++)
        {
            Round(warmUp + i);
            topicMs.Add(t);
            fieldMs.Add(f);
            fanOutMs.Add(o);
            fieldRatio.Add(f / t);
            fanOutRatio.Add(o / t);
        }

        compiled = JitInfo.GetCompiledMethodCount() - compiled;

        // By field against by topic into the same six tables, alternating, after the rows above: the per-type batch is
        // a second decoded arena, kept out of the rotation above as the batch path's is.
        for (var i = -BatchWarmUpRounds; i < options.DecodeIterations; i++)
        {
            double y, fy;
            if (i % 2 == 0)
            {
                y = Time(byTopicPerType, ref rowsPerType, perTypeBatch);
                fy = Time(byField, ref rowsField);
            }
            else
            {
                fy = Time(byField, ref rowsField);
                y = Time(byTopicPerType, ref rowsPerType, perTypeBatch);
            }

            if (i >= 0)
            {
                perTypeMs.Add(y);
                fieldBesidePerType.Add(fy);
                fieldOverPerType.Add(fy / y);
            }
        }

        // The batch's whole path apart, after the rows above: its decode fills another arena, which would push the
        // decoded batch out of the caches for the timings above.
        var batchTopicMs = new List<double>();
        var batchFieldMs = new List<double>();
        var batchFieldRatio = new List<double>();
        for (var i = -BatchWarmUpRounds; i < options.DecodeIterations; i++)
        {
            double bt, bf;
            if (i % 2 == 0)
            {
                bt = TimeBatch(byTopic);
                bf = TimeBatch(byField);
            }
            else
            {
                bf = TimeBatch(byField);
                bt = TimeBatch(byTopic);
            }

            if (i >= 0)
            {
                batchTopicMs.Add(bt);
                batchFieldMs.Add(bf);
                batchFieldRatio.Add(bf / bt);
            }
        }

        return new RoutingCostResult(workload.Records, payload.Length, topicMs, fieldMs, fanOutMs, fieldRatio, fanOutRatio, SplitAlone(batch, byField), rowsTopic, rowsField, rowsFanOut, warmUp, compiled, batchTopicMs, batchFieldMs, batchFieldRatio, perTypeMs, fieldBesidePerType, fieldOverPerType, rowsPerType);
    }

    /// <summary>
    /// Runs rotated rounds until the JIT has compiled no method for <see cref="QuietRounds"/> rounds and
    /// <see cref="QuietTime"/> in a row (at most <see cref="MaxWarmUp"/>); returns the rounds run. The routing path
    /// is called a few times per round, so its methods go through tier 0, OSR and Dynamic PGO's instrumented code for
    /// dozens of rounds (on this machine JIT activity went on to about round 100 of a fresh process); the shipped
    /// function is Native AOT and never runs such code, so only rounds after the JIT went quiet are timed.
    /// </summary>
    internal static int WarmUp(Action<int> round)
    {
        var clock = Stopwatch.StartNew();
        var compiled = JitInfo.GetCompiledMethodCount();
        var quietSince = TimeSpan.Zero;
        int rounds = 0, quietRounds = 0;
        while (clock.Elapsed < MaxWarmUp && (quietRounds < QuietRounds || clock.Elapsed - quietSince < QuietTime))
        {
            round(rounds++);
            var now = JitInfo.GetCompiledMethodCount();
            if (now != compiled)
            {
                compiled = now;
                quietRounds = 0;
                quietSince = clock.Elapsed;
            }
            else
            {
                quietRounds++;
            }
        }

        return rounds;
    }

    /// <summary>Untimed pairs before the batch's whole path is timed (its code is warm from the rows before).</summary>
    private const int BatchWarmUpRounds = 5;

    /// <summary>Rounds without a compiled method that end the warm-up (with <see cref="QuietTime"/>).</summary>
    internal const int QuietRounds = 20;

    /// <summary>Five times the tiered JIT's call-counting delay (100 ms): a method still due for tier 1 would have been compiled.</summary>
    internal static readonly TimeSpan QuietTime = TimeSpan.FromMilliseconds(500);

    internal static readonly TimeSpan MaxWarmUp = TimeSpan.FromSeconds(20);

    /// <summary>The fastest of 20 rounds of splitting every partition by field, without encoding (µs).</summary>
    private static double SplitAlone(KafkaBatch batch, TopicRouter router)
    {
        void Round()
        {
            foreach (var p in batch.Partitions)
            {
                router.Route(batch, p);
            }
        }

        Round();
        var fastest = double.MaxValue;
        for (var r = 0; r < 20; r++)
        {
            var w = Stopwatch.StartNew();
            Round();
            fastest = Math.Min(fastest, w.Elapsed.TotalMicroseconds);
        }

        return fastest;
    }

    /// <summary>Both topics of the workload into one table (types null), or by the <c>event</c> field into a table per type.</summary>
    internal static TopicRouter Router(string[]? types, bool allEvents)
    {
        var env = new Dictionary<string, string?> { ["CLICKHOUSE_URL"] = "https://bench.invalid", ["SINK_ID"] = "bench", ["ROUTES"] = RoutesJson(types, allEvents) };
        return new TopicRouter(SinkOptionsParser.Parse(env));
    }

    /// <summary>The records of <see cref="Workload.TopicPerType"/> by topic: each type's topic into the table by field gives it.</summary>
    internal static TopicRouter TopicPerTypeRouter()
    {
        var env = new Dictionary<string, string?> { ["CLICKHOUSE_URL"] = "https://bench.invalid", ["SINK_ID"] = "bench", ["TOPIC_TABLES"] = TopicTablesPerType };
        return new TopicRouter(SinkOptionsParser.Parse(env));
    }

    /// <summary>TOPIC_TABLES for <see cref="Workload.TopicPerType"/>: each type's topic into <c>events_TYPE</c>, the table by field sends that type to.</summary>
    internal static string TopicTablesPerType => string.Join(',', EventTypes.Select(t => $"{t}=events_{t}"));

    /// <summary>ROUTES for <see cref="Router"/>: per topic of the workload, one rule per type (or one rule without a condition), plus an all-events rule.</summary>
    internal static string RoutesJson(string[]? types, bool allEvents)
    {
        var rules = new List<string>();
        foreach (var topic in new[] { "topic-a", "topic-b" })
        {
            rules.AddRange(types is null
                ? [$$"""{"topic":"{{topic}}","table":"events"}"""]
                : types.Select(t => $$$"""{"topic":"{{{topic}}}","table":"events_{{{t}}}","where":{"field":"event","equals":"{{{t}}}"}}"""));
            if (allEvents)
            {
                rules.Add($$"""{"topic":"{{topic}}","table":"all_events"}""");
            }
        }

        return "[" + string.Join(',', rules) + "]";
    }
}
