using System.Globalization;
using MskClickHouse.Bench.EndToEnd.Sections;

namespace MskClickHouse.Bench.EndToEnd.Report;

/// <summary>Renders each section's result as the markdown ./bench.sh prints.</summary>
internal sealed class MarkdownReport(TextWriter output)
{
    public void Header(string version, int repetitions)
    {
        Line(string.Create(CultureInfo.InvariantCulture, $"# MSK → ClickHouse sink benchmark ({DateTime.UtcNow:yyyy-MM-dd}, {Environment.ProcessorCount} cores, {BenchContext.CpuModel()}, .NET {Environment.Version}, engine chDB {version})"));
        Line(string.Create(CultureInfo.InvariantCulture, $"Figures are medians of {repetitions} repetitions [min–max] unless stated; ratios are taken within the same run. Load average (1, 5, 15 min) at the start: {BenchContext.LoadAverage()}."));
        Line();
    }

    public void Decode(DecodeResult r)
    {
        Line(BenchRunner.Sections[0]);
        Line("KafkaEventDecoder.Decode, and Decode + RowEncoder.Encode of every partition with all seven metadata columns; 2 topics × 3 partitions, 1% bad records, one header per record. Allocated = GC.GetAllocatedBytesForCurrentThread per batch.");
        Line();
        Line("| shape | event | decode ms | decode MB/s | decode+encode ms | decode+encode MB/s | allocated / batch (decode+encode) |");
        Line("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var s in r.Shapes)
        {
            var mb = s.EventBytes / 1e6;
            var name = $"{s.Records:N0} × {(s.ValueBytes >= 1000 ? s.ValueBytes / 1000 + " KB" : s.ValueBytes + " B")}{s.Note}";
            Line($"| {name} | {F(mb, "0.00")} MB | {Stats.Range(s.DecodeMs, "0.00")} | {F(mb / (Stats.Median(s.DecodeMs) / 1000), "0")} | {Stats.Range(s.DecodeEncodeMs, "0.00")} | {F(mb / (Stats.Median(s.DecodeEncodeMs) / 1000), "0")} | {s.AllocatedBytes / 1024.0:N0} KiB ({F((double)s.AllocatedBytes / s.EventBytes, "0.00")}× payload) |");
        }

        Line();
    }

    public void UnknownFieldsCost(UnknownFieldsCostResult r)
    {
        Line($"UNKNOWN_FIELDS_SAMPLE: RowEncoder.Encode of every partition of a {r.Records:N0} × {r.ValueBytes} B batch (decoded once), with the unknown-field check off, at 1 in 100 ({r.Rows100} rows scanned) and at 1 in 1, in rotation; ratios per repetition, and of the fastest repetitions (the steadier figure on a loaded machine). Scan alone = FieldSample.Add over the encoded partitions, mean of many rounds.");
        Line();
        Line("| unknown-field check | encode ms | / off | scan alone per batch |");
        Line("|---|---:|---:|---:|");
        Line($"| off (0) | {Stats.Range(r.OffMs, "0.00")} | 1 | 0 |");
        Line($"| 1 in 100 (default) | {Stats.Range(r.Sample100Ms, "0.00")} | **{Stats.Range(r.Ratio100, "0.000")}** | {F(r.Scan100Us, "0.0")} µs |");
        Line($"| 1 in 1 | {Stats.Range(r.Sample1Ms, "0.00")} | {Stats.Range(r.Ratio1, "0.000")} | {F(r.Scan1Us, "0")} µs |");
        Line();
    }

    public void RoutingCost(RoutingCostResult r)
    {
        Line($"ROUTES: route + RowEncoder.Encode of every partition of the end-to-end batch ({r.Records:N0} records, event {r.EventBytes / 1e6:0.00} MB, decoded once), in rotation, timed after {r.WarmUpRounds} warm-up rounds (until the JIT compiled nothing for {Sections.RoutingCost.QuietRounds} rounds and {Sections.RoutingCost.QuietTime.TotalMilliseconds:0} ms; methods compiled while timed: {r.MethodsCompiledWhileTimed}); ratios per repetition, and of the fastest repetitions (the steadier figure on a loaded machine). By topic: one table ({r.RowsByTopic:N0} rows). By field: the value's `event` field, one table per type ({r.RowsByField:N0} rows, the same split six ways). Fan-out: those six tables plus an all-events table ({r.RowsFanOut:N0} rows). By topic into six tables: the same records on a topic per type (36 partitions; {r.RowsTopicPerType:N0} rows), each topic into the table by field gives its type: a second decoded batch, timed alternating with by field after the rotation. Split alone = TopicRouter.Route by field over every partition, without encoding. The batch's CPU path = decoding the event, then the same route and encode: what the function spends on the batch before its requests.");
        Line();
        Line("| routing | route + encode ms | / by topic | min / min of by topic | split alone per batch (min of 20) |");
        Line("|---|---:|---:|---:|---:|");
        Line($"| by topic | {Stats.Range(r.TopicMs, "0.00")} | 1 | 1 | 0 |");
        Line($"| by field | {Stats.Range(r.FieldMs, "0.00")} | **{Stats.Range(r.FieldRatio, "0.000")}** | {r.FieldMs.Min() / r.TopicMs.Min():0.000} | {F(r.SplitByFieldUs, "0")} µs |");
        Line($"| by field + all-events fan-out | {Stats.Range(r.FanOutMs, "0.00")} | {Stats.Range(r.FanOutRatio, "0.000")} | {r.FanOutMs.Min() / r.TopicMs.Min():0.000} | |");
        Line($"| by topic into the six tables of by field (the records on a topic per type) | {Stats.Range(r.TopicPerTypeMs, "0.00")} | by field / this: **{Stats.Range(r.FieldOverTopicPerTypeRatio, "0.000")}** | by field / this: {r.FieldBesidePerTypeMs.Min() / r.TopicPerTypeMs.Min():0.000} | |");
        Line($"| the batch's CPU path by topic (decode + route + encode) | {Stats.Range(r.BatchTopicMs, "0.00")} | 1 | 1 | |");
        Line($"| the batch's CPU path by field (decode + route + encode) | {Stats.Range(r.BatchFieldMs, "0.00")} | **{Stats.Range(r.BatchFieldRatio, "0.000")}** | {r.BatchFieldMs.Min() / r.BatchTopicMs.Min():0.000} | |");
        Line();
    }

    public void EndToEnd(EndToEndResult r)
    {
        Line(BenchRunner.Sections[1]);
        Line($"Batch: {r.Rows:N0} records × {r.ValueBytes} B JSON values, event {r.EventBytes / 1e6:0.00} MB ({r.EventBytes / 1048576.0:0.00} MiB; limit 6 MB), {Workload.Topics * Workload.Partitions} partitions → one table with all seven metadata columns and non_replicated_deduplication_window; {r.RowsBytes / 1e6:0.00} MB of JSONEachRow. One warm-up batch, then {r.Repetitions} batches with new offsets; sink, engine, floor and floor + read-back rotate which goes first.");
        Line("Sink = Runtime API /next served → response posted (event transfer, decode, encode, state read unless its state cache plans the batch, state write, read-back, one insert of the 6 partitions (an insert group), read-back). Engine = `INSERT INTO t FROM INFILE '<the same rows>' FORMAT JSONEachRow` through the same HTTP server.");
        Line("Floor = the protocol sent by a minimal client in the bench process (plain HttpClient, bodies built before the clock starts, every request built by the sink's own code: ClickHouseStateStore over a recording gateway, StateCache, Reconciler, DeduplicationToken, InsertSettings): the state read (FINAL, select_sequential_consistency) unless the state cache of the floor's own last write plans the batch (the steady state: every batch after the warm-up), the state write, the inserts as the sink forms them (one insert group per table once every partition has a recorded range, under the group token with the sink's settings). Floor + read-back adds the sink's read-back of concurrent plans (one small query after the state write, before the inserts): what the sink sends today. sink / floor is the sink's own cost plus the read-back; sink / (floor + read-back) is the sink's own cost alone.");
        Line();
        Line("| path | ms per batch | rows/s | MB/s of event |");
        Line("|---|---:|---:|---:|");
        var sm = r.SinkMs;
        var em = r.EngineMs;
        var fm = Stats.Median(r.Floor);
        var frm = Stats.Median(r.FloorReadBack);
        Line($"| sink (AOT bootstrap, compression none) | {Stats.Range(r.Sink)} | {r.Rows / (sm / 1000):N0} | {r.EventBytes / 1e6 / (sm / 1000):0} |");
        Line($"| sink CPU (user + system of the bootstrap, its CPU-time clock; median [min–max], mean) | {Stats.Range(r.SinkCpu)} ms, mean {F(r.SinkCpu.DefaultIfEmpty(double.NaN).Average(), "0.0")} | | |");
        Line($"| sink CPU, the same invocations in /proc/PID/stat's 10 ms ticks (the column before #25; mean) | {F(r.SinkCpuTicks.DefaultIfEmpty(double.NaN).Average(), "0.0")} ms | | |");
        Line($"| protocol floor (minimal client, same requests) | {Stats.Range(r.Floor)} | {r.Rows / (fm / 1000):N0} | – |");
        Line($"| protocol floor + read-back | {Stats.Range(r.FloorReadBack)} | {r.Rows / (frm / 1000):N0} | – |");
        var smm = Stats.Median(r.SmallSink);
        var sfm = Stats.Median(r.SmallFloor);
        Line($"| sink, {r.SmallRecords:N0}-record batches ({r.SmallEventBytes / 1e6:0.00} MB) | {Stats.Range(r.SmallSink)} | {r.SmallRecords / (smm / 1000):N0} | {r.SmallEventBytes / 1e6 / (smm / 1000):0} |");
        Line($"| protocol floor, {r.SmallRecords:N0}-record batches | {Stats.Range(r.SmallFloor)} | {r.SmallRecords / (sfm / 1000):N0} | – |");
        Line($"| protocol floor + read-back, {r.SmallRecords:N0}-record batches | {Stats.Range(r.SmallFloorReadBack)} | {r.SmallRecords / (Stats.Median(r.SmallFloorReadBack) / 1000):N0} | – |");
        Line($"| engine alone (INSERT FROM INFILE) | {Stats.Range(r.Engine)} | {r.Rows / (em / 1000):N0} | – |");
        Line($"| **sink / engine** (per-repetition ratio) | **{Stats.Range(r.SinkOverEngine, "0.00")}** | | |");
        Line($"| **sink / floor** (per-repetition ratio) | **{Stats.Range(r.SinkOverFloor, "0.00")}** | | |");
        Line($"| **sink / floor, {r.SmallRecords:N0}-record batches** | **{Stats.Range(r.SmallSinkOverFloor, "0.00")}** | | |");
        Line($"| sink / (floor + read-back) | {Stats.Range(r.SinkOverFloorReadBack, "0.00")} | | |");
        Line($"| sink / (floor + read-back), {r.SmallRecords:N0}-record batches | {Stats.Range(r.SmallSinkOverFloorReadBack, "0.00")} | | |");
        if (r.Baseline.Count > 0)
        {
            Line($"| baseline bootstrap (--baseline-bootstrap), same batches | {Stats.Range(r.Baseline)} | {r.Rows / (Stats.Median(r.Baseline) / 1000):N0} | |");
            Line($"| baseline CPU (same clock; median [min–max], mean) | {Stats.Range(r.BaselineCpu)} ms, mean {F(r.BaselineCpu.DefaultIfEmpty(double.NaN).Average(), "0.0")} | | |");
            Line($"| **sink CPU / baseline CPU** (per-repetition ratio) | **{Stats.Range(r.CpuOverBaseline, "0.00")}** | | |");
            Line($"| baseline, {r.SmallRecords:N0}-record batches | {Stats.Range(r.SmallBaseline)} | | |");
            Line($"| **baseline / floor** | **{Stats.Range(r.BaselineOverFloor, "0.00")}** | | |");
            Line($"| **baseline / floor, {r.SmallRecords:N0}-record batches** | **{Stats.Range(r.SmallBaselineOverFloor, "0.00")}** | | |");
        }
        Line();
        Anatomy(r);
        Line("Protocol variants (not what the sink does): each variant sent by the floor's client, alternating with the full floor in the same repetitions, fresh offsets every run. Saved = full floor − variant, per repetition.");
        Line();
        Line("| variant | batch | ms per batch | saved ms vs full floor | saved share |");
        Line("|---|---:|---:|---:|---:|");
        foreach (var c in r.Cuts)
        {
            var name = c.Variant switch
            {
                ProtocolFloor.Variant.WithStateRead => "+ state read although the cache plans the batch (the protocol before the cache; negative = its cost)",
                ProtocolFloor.Variant.WriteOverlapsInserts => "state write sent with the inserts, not before",
                ProtocolFloor.Variant.WithLandedWrite => "+ landed mark after the inserts (tables without offset columns; negative = its cost)",
                _ => c.Variant.ToString(),
            };
            Line($"| {name} | {c.Records:N0} | {Stats.Range(c.Ms)} | {Stats.Range(c.SavedMs)} | {F(Stats.Median(c.SavedMs) / Stats.Median(c.FullMs) * 100, "0")}% |");
        }

        Line();
        CheckLine(r.Landed);
    }

    /// <summary>Per invocation of the 6 MB batch: requests, waves, inserts and parts per table, beside sink / engine.</summary>
    private void Anatomy(EndToEndResult r)
    {
        var a = r.Anatomy;
        Line($"Per invocation of the same batch ({a.Count} batches after a warm-up, one at a time): the AOT bootstrap behind a recording TCP proxy, alone in its own database, so every request it sends and every part it creates is its own. Requests and inserts as the proxy saw them (HTTP/1.1: client bytes after server bytes start a request); waves = sequential round trips, runs of requests that overlap in time with nothing in flight between two runs; parts = block numbers used per table (one per insert per table partition). Sink / engine is the rotation's above (no proxy).");
        Line();
        Line("| per invocation | median [min–max] |");
        Line("|---|---:|");
        foreach (var table in a.SelectMany(x => x.PartsByTable.Keys.Concat(x.Requests.InsertsByTable.Keys)).Distinct().Order(StringComparer.Ordinal))
        {
            Line($"| inserts into `{table}` | {Stats.Range([.. a.Select(x => (double)x.Inserts(table))], "0")} |");
            Line($"| new parts of `{table}` | **{Stats.Range([.. a.Select(x => (double)x.Parts(table))], "0")}** |");
        }

        Line($"| requests to ClickHouse | {Stats.Range([.. a.Select(x => (double)x.Requests.Requests)], "0")} |");
        Line($"| **sequential round trips (waves)** | **{Stats.Range([.. a.Select(x => (double)x.Requests.Waves)], "0")}** |");
        Line($"| **sink / engine** | **{Stats.Range(r.SinkOverEngine, "0.00")}** |");
        Line();
    }

    public void ColdStart(ColdStartResult r)
    {
        Line(BenchRunner.Sections[2]);
        Line($"Process start → first response of a 12-record event, {r.Starts} starts each (alternating), each against a fresh database: init connects, creates the dead-letter and state tables and checks the target table.");
        Line();
        Line("| build | start → first /next (init) ms | start → first response ms | peak RSS MiB |");
        Line("|---|---:|---:|---:|");
        Line($"| Native AOT `bootstrap` | {Stats.Range(r.Aot.Init)} | {Stats.Range(r.Aot.Cold)} | {F(Stats.Median(r.Aot.RssMiB))} |");
        Line($"| JIT `dotnet bootstrap.dll` | {Stats.Range(r.Jit.Init)} | {Stats.Range(r.Jit.Cold)} | {F(Stats.Median(r.Jit.RssMiB))} |");
        Line($"| **JIT / AOT** | | **{F(r.JitOverAot, "0.0")}×** | |");
        Line();
    }

    public void Memory(MemoryResult r)
    {
        Line(BenchRunner.Sections[3]);
        Line("Peak RSS is VmHWM of the AOT bootstrap after the warm-up and all end-to-end batches of section 2. Allocations come from the same Core handler run in this process (SinkHandlerFactory.CreateAsync + HandleAsync, GC.GetTotalAllocatedBytes(precise) around HandleAsync): the bootstrap logs no GC figures.");
        Line();
        Line("| figure | value |");
        Line("|---|---:|");
        Line($"| peak RSS of the AOT bootstrap after {r.BatchesBeforePeak} batches of {r.EventBytes / 1e6:0.0} MB | {r.AotPeakRssBytes / 1048576.0:0.0} MiB |");
        Line($"| managed allocations per batch (handler + HTTP client) | {Stats.Range(r.AllocatedBytes.Select(a => a / 1048576.0).ToList(), "0.00")} MiB ({r.AllocatedMedian / r.EventBytes:0.00}× event) |");
        Line($"| AOT binary | {r.AotBinaryBytes / 1048576.0:0.0} MiB |");
        Line();
    }

    public void Compression(CompressionResult r)
    {
        Line(BenchRunner.Sections[4]);
        var none = r.Modes.FirstOrDefault(m => m.Mode == "none");
        Line($"The AOT bootstrap talks to the engine through a counting TCP proxy on 127.0.0.1: client→server bytes (HTTP headers, insert bodies, state reads and writes) per batch; CPU = user + system time of the bootstrap around each invocation from its CPU-time clock (mean of {r.Repetitions}). JSONEachRow produced per batch: {r.RowsBytes / 1e6:0.00} MB. lz4 is not measured: ClickHouse lists lz4 (LZ4 frame) among its HTTP Content-Encodings and its Java client sends it that way, but the embedded test server cannot decode it, so it could not be checked end to end here. Wall times here include the proxy's copying, and for zstd the embedded server's decoding through a temporary file (real ClickHouse streams it): compare bytes and CPU, not wall time.");
        Line();
        Line("| CLICKHOUSE_COMPRESSION | bytes sent per record | vs none | sink CPU ms per batch | ms per batch (wall, via the proxy) |");
        Line("|---|---:|---:|---:|---:|");
        foreach (var m in r.Modes)
        {
            Line($"| {m.Mode} | {m.BytesPerRecord:0.0} | {(none is null ? "–" : F(m.BytesPerRecord / none.BytesPerRecord, "0.00") + "×")} | {m.CpuMsPerBatch:0} | {F(m.MsPerBatch, "0")} |");
        }

        Line();
    }

    public void Cost(CostResult r)
    {
        Line(BenchRunner.Sections[5]);
        Line($"Prices (us-east-1, as of {r.Date:yyyy-MM-dd}): Lambda arm64 $0.0000133334 and x86 $0.0000166667 per GB-s, $0.20 per million requests, NAT gateway $0.045 per GB processed (GB = 2^30 B). {r.InvocationsPerMillion:0.0} invocations per million records ({r.RowsPerBatch:N0}-record batches).");
        Line("Duration model: Lambda gives CPU in proportion to memory (1 vCPU at 1,769 MB; this machine's 2 cores ≈ a 3,538 MB function). Estimated duration = the sink's CPU time per batch for that compression (section 5) × 1,769 / memory, plus the wait for ClickHouse = section 2's direct median minus the uncompressed CPU time, kept as is. The embedded engine shares these 2 cores, so the wait is pessimistic for a remote ClickHouse Cloud service and optimistic for a slow or far one.");
        Line();
        Line("| compression | memory | est. ms per batch | GB-s per 1M records | arm64 $ | x86 $ | requests $ | NAT $ | total arm64 $ per 1M records |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var c in r.Rows)
        {
            Line($"| {c.Compression} | {c.MemoryMb} MB | {c.EstMsPerBatch:0} | {c.GbSecondsPerMillion:0.00} | {c.Arm64Usd:0.00000} | {c.X86Usd:0.00000} | {c.RequestsUsd:0.00000} | {c.NatUsd:0.0000} | **{c.TotalArm64Usd:0.0000}** |");
        }

        Line();
    }

    public void Breakdown(BreakdownResult r)
    {
        Line(BenchRunner.Sections[6]);
        Line("The same Core handler in this process (JIT, same GC settings as the bench), one batch of section 2's size per repetition. ClickHouse columns are wall time during which at least one call of that kind was open (inserts of the 6 partitions overlap, INSERT_PARALLELISM 4). Decode + encode is timed separately on the same event.");
        Line();
        Line("| part | ms per batch | share of total | calls |");
        Line("|---|---:|---:|---:|");
        var total = r.TotalMs;
        Line($"| total HandleAsync | {Stats.Range(r.Total)} | 100% | |");
        foreach (var p in r.Parts)
        {
            Line($"| ClickHouse: {p.Kind} | {F(p.Ms)} | {p.Ms / total:P0} | {p.Calls:0} |");
        }

        Line($"| outside ClickHouse calls | {F(r.OutsideMs)} | {r.OutsideMs / total:P0} | |");
        Line($"| of which decode + encode (timed alone) | {F(r.DecodeEncodeMs)} | {r.DecodeEncodeMs / total:P0} | |");
        Line();
    }

    public void Scale(ScaleResult r)
    {
        Line(BenchRunner.Sections[7]);
        var builds = r.Cells.Select(c => c.Build).Distinct().Count();
        Line($"N AOT bootstrap processes, each behind its own Runtime API emulator (one invocation at a time, like one Lambda execution environment), consume P partitions of one topic as the event-source mapping does: each invocation carries K partitions (a fixed group of the topic's partitions; K = P unless --scale-partitions-per-event says otherwise, i.e. one poller reading the whole topic), {r.RecordsPerInvocation:N0} records × {r.ValueBytes} B split evenly over them, at most one invocation in flight per partition, each with the next offsets of its partitions. Each step runs for a fixed time; one database per build for the whole run, so the state table carries over from step to step{(builds > 1 ? "; the baseline (--baseline-bootstrap) and this build run each step one after the other, alternating which goes first" : string.Empty)}. Parts created = block numbers used (one per insert per table partition) in system.parts; rows of the state table are counted without FINAL (what merges have not collapsed yet). The embedded engine runs one request at a time on the same 2 cores, so rows/s flattens where the engine saturates: read the parts and state columns as what a server would receive at that invocation rate.");
        Line();
        Line("| build | processes | partitions | partitions per event | invocations/s | rows/s | invocation p50 ms | p95 ms | target parts created/min | state parts created/min | state rows (end) | state active parts (end / max) | target active parts (end) |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var c in r.Cells)
        {
            Line($"| {c.Build} | {c.Processes} | {c.Partitions} | {c.PartitionsPerEvent} | {c.Invocations / c.Seconds:0.0} | {c.RowsPerSecond:N0} | {F(Stats.Percentile(c.InvocationMs, 50), "0")} | {F(Stats.Percentile(c.InvocationMs, 95), "0")} | {c.TargetPartsPerMinute:N0} | {c.StatePartsPerMinute:N0} | {c.End.StateRows:N0} | {c.End.StateActiveParts} / {c.StateActivePartsMax} | {c.End.TargetActiveParts} |");
        }

        Line();
        Line($"Per invocation. Inserts and requests are what each process's recording proxy saw during its invocations (mean, or median [min–max]); parts = block numbers used in the step / invocations. Waves = sequential round trips: runs of requests that overlap in time, with nothing in flight between two runs. Sink / engine: after each step, {ScaleSection.Probes} invocations of the step's shape (through the proxy) alternate with the engine inserting the same rows in one `INSERT … FROM INFILE` (per-invocation ratios).");
        Line();
        Line("| build | processes | partitions | partitions per event | records per event | event MB | target inserts | target parts | state inserts | state parts | requests | **waves** | **sink / engine** |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var c in r.Cells)
        {
            Line($"| {c.Build} | {c.Processes} | {c.Partitions} | {c.PartitionsPerEvent} | {c.PartitionsPerEvent * c.RecordsPerPartition:N0} | {c.EventBytes / 1e6:0.00} | {F(c.TargetInsertsPerInvocation, "0.00")} | **{F(c.TargetPartsPerInvocation, "0.00")}** | {F(c.StateInsertsPerInvocation, "0.00")} | **{F(c.StatePartsPerInvocation, "0.00")}** | {Stats.Range(c.RequestsPerInvocation, "0")} | **{Stats.Range(c.WavesPerInvocation, "0")}** | **{Stats.Range(c.SinkOverEngine, "0.00")}** |");
        }

        Line();
        Line($"State table over time (one sample a second; every {Math.Max(1, r.Samples.Count / 12)}th shown):");
        Line();
        Line("| build | at s | state rows (no FINAL) | state active parts | target active parts |");
        Line("|---|---:|---:|---:|---:|");
        for (var i = 0; i < r.Samples.Count; i += Math.Max(1, r.Samples.Count / 12))
        {
            var s = r.Samples[i];
            Line($"| {s.Build} | {s.AtSeconds:0} | {s.StateRows:N0} | {s.StateActiveParts} | {s.TargetActiveParts} |");
        }

        Line();
        Line($"Scale section: {r.TotalSeconds:0} s.");
        Line();
        foreach (var check in r.Landed)
        {
            CheckLine(check);
        }
    }

    public void RoutingEndToEnd(RoutingEndToEndResult r)
    {
        Line(BenchRunner.Sections[8]);
        Line($"Three AOT bootstraps, each into its own database, get the same {r.Records:N0} records in every repetition (fresh offsets; one warm-up, then {r.Repetitions}), in rotating order. By field: the bench batch (event {r.EventBytes / 1e6:0.00} MB, 6 partitions), ROUTES by the value's `event` field into a table per event type. By topic, six tables: the same records on a topic per type (event {r.TopicPerTypeEventBytes / 1e6:0.00} MB, 36 partitions, each one original partition's records of that type), TOPIC_TABLES into the same six tables: same rows, tables, inserts (one per table) and state rows as by field, so by field / this is what reading the field costs. By topic, one table: the bench batch into one table (section 2's set-up): by field / this adds what six tables cost over one (six inserts, queued behind each other on the embedded engine, which runs one request at a time). Latency = Runtime API /next served → response posted; CPU = the bootstrap's user + system time (its CPU-time clock) during the invocation.");
        Line();
        Line("| routing | invocation ms | CPU ms |");
        Line("|---|---:|---:|");
        foreach (var s in new[] { r.TopicPerType, r.ByField, r.OneTable })
        {
            Line($"| {s.Name} | {Stats.Range(s.Ms)} | {Stats.Range(s.CpuMs)} |");
        }

        Line();
        Line("| ratio, per repetition | invocation | CPU |");
        Line("|---|---:|---:|");
        Line($"| **by field / by topic, the same six tables** | **{Stats.Range(r.FieldOverTopicMs, "0.000")}** | **{Stats.Range(r.FieldOverTopicCpu, "0.000")}** |");
        Line($"| by field, six tables / by topic, one table | {Stats.Range(r.FieldOverOneTableMs, "0.000")} | {Stats.Range(r.FieldOverOneTableCpu, "0.000")} |");
        Line();
        CheckLine(r.Landed);
    }

    /// <summary>The machine's load around a section's figures (they move with it more than with most changes).</summary>
    public void Load(string before, string after)
    {
        Line($"Load average (1, 5, 15 min) before this section: {before}; after it: {after}.");
        Line();
    }

    public void CheckLine(Check c)
    {
        Line((c.Ok ? "OK    " : "FAIL  ") + c.What);
        Line();
    }

    public void Line(string text = "") => output.WriteLine(text);

    private static string F(double v, string format = "0.0") => Stats.F(v, format);
}
