using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MskClickHouse.Bench.EndToEnd.Sections;

namespace MskClickHouse.Bench.EndToEnd.Report;

/// <summary>Renders each section's result into artifacts/bench/results.json (one key per section).</summary>
internal sealed class JsonReport
{
    private readonly JsonObject _json = new();

    public void Machine(string engine) => _json["machine"] = new JsonObject
    {
        ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["cores"] = Environment.ProcessorCount,
        ["cpu"] = BenchContext.CpuModel(),
        ["dotnet"] = Environment.Version.ToString(),
        ["engine"] = engine,
    };

    public void Decode(DecodeResult r)
    {
        var arr = new JsonArray();
        foreach (var s in r.Shapes)
        {
            var mb = s.EventBytes / 1e6;
            arr.Add(new JsonObject
            {
                ["records"] = s.Records,
                ["value_bytes"] = s.ValueBytes,
                ["event_bytes"] = s.EventBytes,
                ["decode_ms_median"] = Stats.Median(s.DecodeMs),
                ["decode_mb_per_s"] = mb / (Stats.Median(s.DecodeMs) / 1000),
                ["decode_encode_ms_median"] = Stats.Median(s.DecodeEncodeMs),
                ["decode_encode_mb_per_s"] = mb / (Stats.Median(s.DecodeEncodeMs) / 1000),
                ["allocated_bytes_per_batch"] = s.AllocatedBytes,
            });
        }

        _json["decode"] = arr;
    }

    public void UnknownFieldsCost(UnknownFieldsCostResult r) => _json["unknown_fields"] = new JsonObject
    {
        ["records"] = r.Records,
        ["encode_off_ms_median"] = Stats.Median(r.OffMs),
        ["encode_sample_100_ms_median"] = Stats.Median(r.Sample100Ms),
        ["encode_sample_1_ms_median"] = Stats.Median(r.Sample1Ms),
        ["ratio_sample_100_over_off_median"] = Stats.Median(r.Ratio100),
        ["ratio_sample_1_over_off_median"] = Stats.Median(r.Ratio1),
        ["scan_sample_100_us_per_batch"] = r.Scan100Us,
        ["scan_sample_1_us_per_batch"] = r.Scan1Us,
    };

    public void RoutingCost(RoutingCostResult r) => _json["routing"] = new JsonObject
    {
        ["records"] = r.Records,
        ["event_bytes"] = r.EventBytes,
        ["by_topic_ms_median"] = Stats.Median(r.TopicMs),
        ["by_field_ms_median"] = Stats.Median(r.FieldMs),
        ["fan_out_ms_median"] = Stats.Median(r.FanOutMs),
        ["ratio_by_field_over_by_topic_median"] = Stats.Median(r.FieldRatio),
        ["ratio_fan_out_over_by_topic_median"] = Stats.Median(r.FanOutRatio),
        ["ratio_by_field_over_by_topic_of_minima"] = r.FieldMs.Min() / r.TopicMs.Min(),
        ["split_by_field_us_per_batch"] = r.SplitByFieldUs,
        ["batch_path_by_topic_ms_median"] = Stats.Median(r.BatchTopicMs),
        ["batch_path_by_field_ms_median"] = Stats.Median(r.BatchFieldMs),
        ["ratio_batch_path_by_field_over_by_topic_median"] = Stats.Median(r.BatchFieldRatio),
        ["ratio_batch_path_by_field_over_by_topic_of_minima"] = r.BatchFieldMs.Min() / r.BatchTopicMs.Min(),
        ["topic_per_type_ms_median"] = Stats.Median(r.TopicPerTypeMs),
        ["ratio_by_field_over_topic_per_type_median"] = Stats.Median(r.FieldOverTopicPerTypeRatio),
        ["ratio_by_field_over_topic_per_type_of_minima"] = r.FieldBesidePerTypeMs.Min() / r.TopicPerTypeMs.Min(),
        ["warm_up_rounds"] = r.WarmUpRounds,
        ["methods_compiled_while_timed"] = r.MethodsCompiledWhileTimed,
    };

    public void EndToEnd(EndToEndResult r)
    {
        var smm = Stats.Median(r.SmallSink);
        _json["end_to_end"] = new JsonObject
        {
            ["records_per_batch"] = r.Rows,
            ["value_bytes"] = r.ValueBytes,
            ["event_bytes"] = r.EventBytes,
            ["rows_bytes"] = r.RowsBytes,
            ["repetitions"] = r.Repetitions,
            ["sink_ms"] = Arr(r.Sink),
            ["engine_ms"] = Arr(r.Engine),
            ["floor_ms"] = Arr(r.Floor),
            ["sink_cpu_ms"] = Arr(r.SinkCpu),
            ["sink_cpu_ms_median"] = Stats.Median(r.SinkCpu),
            ["sink_cpu_ticks_ms"] = Arr(r.SinkCpuTicks),
            ["sink_ms_median"] = r.SinkMs,
            ["floor_ms_median"] = Stats.Median(r.Floor),
            ["floor_read_back_ms"] = Arr(r.FloorReadBack),
            ["floor_read_back_ms_median"] = Stats.Median(r.FloorReadBack),
            ["small_batch_records"] = r.SmallRecords,
            ["small_batch_ms"] = Arr(r.SmallSink),
            ["small_batch_ms_median"] = smm,
            ["small_batch_rows_per_s"] = r.SmallRecords / (smm / 1000),
            ["small_batch_floor_ms"] = Arr(r.SmallFloor),
            ["small_batch_floor_ms_median"] = Stats.Median(r.SmallFloor),
            ["small_batch_floor_read_back_ms"] = Arr(r.SmallFloorReadBack),
            ["engine_ms_median"] = r.EngineMs,
            ["sink_rows_per_s"] = r.Rows / (r.SinkMs / 1000),
            ["engine_rows_per_s"] = r.Rows / (r.EngineMs / 1000),
            ["ratio_sink_engine_median"] = Stats.Median(r.SinkOverEngine),
            ["ratio_sink_floor_median"] = Stats.Median(r.SinkOverFloor),
            ["ratio_sink_floor"] = Arr(r.SinkOverFloor),
            ["small_batch_ratio_sink_floor_median"] = Stats.Median(r.SmallSinkOverFloor),
            ["small_batch_ratio_sink_floor"] = Arr(r.SmallSinkOverFloor),
            ["ratio_sink_floor_read_back_median"] = Stats.Median(r.SinkOverFloorReadBack),
            ["ratio_sink_floor_read_back"] = Arr(r.SinkOverFloorReadBack),
            ["small_batch_ratio_sink_floor_read_back_median"] = Stats.Median(r.SmallSinkOverFloorReadBack),
            ["baseline_ms"] = Arr(r.Baseline),
            ["small_batch_baseline_ms"] = Arr(r.SmallBaseline),
            ["baseline_cpu_ms"] = Arr(r.BaselineCpu),
            ["ratio_sink_cpu_baseline_cpu_median"] = r.BaselineCpu.Count == 0 ? null : Stats.Median(r.CpuOverBaseline),
            ["ratio_baseline_floor_median"] = r.Baseline.Count == 0 ? null : Stats.Median(r.BaselineOverFloor),
            ["small_batch_ratio_baseline_floor_median"] = r.SmallBaseline.Count == 0 ? null : Stats.Median(r.SmallBaselineOverFloor),
            ["per_invocation"] = new JsonArray([.. r.Anatomy.Select(a => (JsonNode?)new JsonObject
            {
                ["requests"] = a.Requests.Requests,
                ["waves"] = a.Requests.Waves,
                ["inserts_by_table"] = Counts(a.Requests.InsertsByTable.ToDictionary(x => x.Key, x => (long)x.Value)),
                ["parts_by_table"] = Counts(a.PartsByTable),
            })]),
            ["protocol_cuts"] = new JsonArray([.. r.Cuts.Select(c => (JsonNode?)new JsonObject
            {
                ["variant"] = c.Variant.ToString(),
                ["records"] = c.Records,
                ["ms"] = Arr(c.Ms),
                ["full_floor_ms"] = Arr(c.FullMs),
                ["saved_ms_median"] = Stats.Median(c.SavedMs),
            })]),
        };
    }

    public void ColdStart(ColdStartResult r) => _json["cold_start"] = new JsonObject
    {
        ["starts"] = r.Starts,
        ["aot_first_response_ms"] = Arr(r.Aot.Cold),
        ["jit_first_response_ms"] = Arr(r.Jit.Cold),
        ["aot_init_ms"] = Arr(r.Aot.Init),
        ["jit_init_ms"] = Arr(r.Jit.Init),
        ["aot_first_response_ms_median"] = Stats.Median(r.Aot.Cold),
        ["jit_first_response_ms_median"] = Stats.Median(r.Jit.Cold),
        ["ratio_jit_aot"] = r.JitOverAot,
        ["aot_binary_bytes"] = r.AotBinaryBytes,
    };

    public void Memory(MemoryResult r) => _json["memory"] = new JsonObject
    {
        ["aot_peak_rss_bytes"] = r.AotPeakRssBytes,
        ["allocated_bytes_per_batch_median"] = r.AllocatedMedian,
        ["allocated_bytes_per_batch"] = Arr(r.AllocatedBytes),
    };

    public void Compression(CompressionResult r)
    {
        var arr = new JsonArray();
        foreach (var m in r.Modes)
        {
            arr.Add(new JsonObject
            {
                ["compression"] = m.Mode,
                ["wire_bytes_per_batch_median"] = m.WireBytesPerBatch,
                ["wire_bytes_per_record"] = m.BytesPerRecord,
                ["cpu_ms_per_batch_mean"] = m.CpuMsPerBatch,
                ["ms_per_batch_median"] = m.MsPerBatch,
                ["ms_per_batch"] = Arr(m.Ms),
            });
        }

        _json["compression"] = arr;
    }

    public void Cost(CostResult r)
    {
        var arr = new JsonArray();
        foreach (var c in r.Rows)
        {
            arr.Add(new JsonObject
            {
                ["compression"] = c.Compression,
                ["memory_mb"] = c.MemoryMb,
                ["est_ms_per_batch"] = c.EstMsPerBatch,
                ["gb_s_per_million"] = c.GbSecondsPerMillion,
                ["arm64_usd_per_million"] = c.Arm64Usd,
                ["x86_usd_per_million"] = c.X86Usd,
                ["requests_usd_per_million"] = c.RequestsUsd,
                ["nat_usd_per_million"] = c.NatUsd,
                ["total_arm64_usd_per_million"] = c.TotalArm64Usd,
            });
        }

        _json["cost"] = new JsonObject
        {
            ["date_utc"] = r.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["prices"] = new JsonObject { ["arm64_gb_s"] = CostResult.Arm, ["x86_gb_s"] = CostResult.X86, ["per_request"] = CostResult.PerRequest, ["nat_per_gb"] = CostResult.NatPerGb },
            ["invocations_per_million_records"] = r.InvocationsPerMillion,
            ["rows"] = arr,
        };
    }

    public void Breakdown(BreakdownResult r)
    {
        var obj = new JsonObject { ["total_ms"] = r.TotalMs, ["decode_encode_ms"] = r.DecodeEncodeMs };
        foreach (var p in r.Parts)
        {
            obj[p.Kind.Replace(' ', '_') + "_ms"] = p.Ms;
        }

        obj["outside_clickhouse_ms"] = r.OutsideMs;
        _json["breakdown"] = obj;
    }

    public void Scale(ScaleResult r)
    {
        var cells = new JsonArray();
        foreach (var c in r.Cells)
        {
            cells.Add(new JsonObject
            {
                ["build"] = c.Build,
                ["processes"] = c.Processes,
                ["partitions"] = c.Partitions,
                ["partitions_per_event"] = c.PartitionsPerEvent,
                ["records_per_partition"] = c.RecordsPerPartition,
                ["event_bytes"] = c.EventBytes,
                ["seconds"] = c.Seconds,
                ["invocations"] = c.Invocations,
                ["rows"] = c.Rows,
                ["rows_per_s"] = c.RowsPerSecond,
                ["invocation_ms_p50"] = Stats.Percentile(c.InvocationMs, 50),
                ["invocation_ms_p95"] = Stats.Percentile(c.InvocationMs, 95),
                ["target_parts_created_per_min"] = c.TargetPartsPerMinute,
                ["state_parts_created_per_min"] = c.StatePartsPerMinute,
                ["state_rows_end"] = c.End.StateRows,
                ["state_active_parts_end"] = c.End.StateActiveParts,
                ["state_active_parts_max"] = c.StateActivePartsMax,
                ["target_active_parts_end"] = c.End.TargetActiveParts,
                ["per_invocation"] = new JsonObject
                {
                    ["target_inserts_mean"] = c.TargetInsertsPerInvocation,
                    ["target_parts"] = c.TargetPartsPerInvocation,
                    ["state_inserts_mean"] = c.StateInsertsPerInvocation,
                    ["state_parts"] = c.StatePartsPerInvocation,
                    ["requests_median"] = Stats.Median(c.RequestsPerInvocation),
                    ["waves_median"] = Stats.Median(c.WavesPerInvocation),
                    ["waves_max"] = c.WavesPerInvocation.Max(),
                    ["sink_over_engine"] = Arr(c.SinkOverEngine),
                    ["sink_over_engine_median"] = Stats.Median(c.SinkOverEngine),
                },
            });
        }

        var samples = new JsonArray();
        foreach (var s in r.Samples)
        {
            samples.Add(new JsonObject
            {
                ["build"] = s.Build,
                ["at_s"] = Math.Round(s.AtSeconds, 1),
                ["state_rows"] = s.StateRows,
                ["state_active_parts"] = s.StateActiveParts,
                ["target_active_parts"] = s.TargetActiveParts,
            });
        }

        _json["scale"] = new JsonObject
        {
            ["records_per_invocation"] = r.RecordsPerInvocation,
            ["value_bytes"] = r.ValueBytes,
            ["total_seconds"] = r.TotalSeconds,
            ["steps"] = cells,
            ["samples"] = samples,
        };
    }

    /// <summary>A load average reading (e.g. "start": "1.2 0.9 0.7", or a section's before/after) under "load_average".</summary>
    public void RoutingEndToEnd(RoutingEndToEndResult r) => _json["routing_end_to_end"] = new JsonObject
    {
        ["records"] = r.Records,
        ["event_bytes"] = r.EventBytes,
        ["topic_per_type_event_bytes"] = r.TopicPerTypeEventBytes,
        ["setups"] = new JsonArray([.. new[] { r.TopicPerType, r.ByField, r.OneTable }.Select(s => (JsonNode?)new JsonObject
        {
            ["name"] = s.Name,
            ["ms"] = Arr(s.Ms),
            ["cpu_ms"] = Arr(s.CpuMs),
        })]),
        ["ratio_field_over_topic_same_tables_ms"] = Arr(r.FieldOverTopicMs),
        ["ratio_field_over_topic_same_tables_cpu"] = Arr(r.FieldOverTopicCpu),
        ["ratio_field_over_topic_same_tables_ms_median"] = Stats.Median(r.FieldOverTopicMs),
        ["ratio_field_over_topic_same_tables_cpu_median"] = Stats.Median(r.FieldOverTopicCpu),
        ["ratio_field_over_one_table_ms_median"] = Stats.Median(r.FieldOverOneTableMs),
        ["ratio_field_over_one_table_cpu_median"] = Stats.Median(r.FieldOverOneTableCpu),
        ["landed"] = r.Landed.Ok,
    };

    public void Load(string key, string value) => LoadAverages()[key] = value;

    public void Load(string section, string before, string after) => LoadAverages()[section] = new JsonObject { ["before"] = before, ["after"] = after };

    private JsonObject LoadAverages() => (JsonObject)(_json["load_average"] ??= new JsonObject());

    public void Set(string key, JsonNode node) => _json[key] = node;

    public Task WriteAsync(string path, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return File.WriteAllTextAsync(path, _json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), ct);
    }

    private static JsonObject Counts(IReadOnlyDictionary<string, long> counts) =>
        new(counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => KeyValuePair.Create(c.Key, (JsonNode?)JsonValue.Create(c.Value))));

    public static JsonArray Arr(IEnumerable<double> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(Math.Round(v, 3)))]);
}
