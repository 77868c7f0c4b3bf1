using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.Simulation;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.LocalRun;

// Inside the namespace: MskClickHouse.EmbeddedClickHouse (the server) would otherwise win the name lookup.
using EmbeddedClickHouse = MskClickHouse.Embedded.EmbeddedClickHouse;

/// <summary>
/// The local run: ClickHouse (embedded unless --clickhouse-url), the published AOT bootstrap behind the Runtime API
/// emulator, demo tables, batches sent as the event-source mapping would, a summary, and a re-delivery that must not
/// duplicate anything. Exit codes: 0 ok, 1 a check failed, 2 bad input or an environment problem.
/// </summary>
public static class LocalRunner
{
    /// <summary>Lambda's synchronous invocation payload limit, with room for the envelope.</summary>
    private const int MaxEventBytes = 6 * 1024 * 1024 - 64 * 1024;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            var options = LocalRunOptions.Parse(args);
            return await new Run(options, output, error).ExecuteAsync(cancellationToken);
        }
        catch (UsageException e)
        {
            if (e.Message != "usage")
            {
                await error.WriteLineAsync("error: " + e.Message);
            }

            await error.WriteLineAsync(LocalRunOptions.Usage);
            return 2;
        }
        catch (LocalRunException e)
        {
            await error.WriteLineAsync("error: " + e.Message);
            return 2;
        }
    }

    private sealed class Run(LocalRunOptions options, TextWriter output, TextWriter error)
    {
        private readonly List<double> _latenciesMs = [];
        private readonly HashSet<string> _topics = new(StringComparer.Ordinal);
        private long _records;
        private long _bytes;
        private int _invocations;
        private int _partialFailures;

        public async Task<int> ExecuteAsync(CancellationToken ct)
        {
            var root = BootstrapPublisher.FindRepositoryRoot();
            var batches = LoadBatches(root);
            var bootstrap = options.Bootstrap ?? await PublishBootstrapAsync(root, ct);
            if (!File.Exists(bootstrap))
            {
                throw new LocalRunException($"bootstrap '{bootstrap}' does not exist");
            }

            await using var engine = await StartEngineAsync(ct);
            var database = "localrun_" + DateTime.UtcNow.ToString("yyyyMMdd_HHmmss_fff", CultureInfo.InvariantCulture);
            await CreateTablesAsync(engine, database, ct);

            await using var emulator = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromMinutes(2) });
            await using var proxy = options.ChaosSeed is { } faultSeed ? await FaultProxy.StartAsync(engine.Url, SeededFaults(faultSeed), faultSeed, ct) : null;
            using var registry = options.ValueFormat == "json" ? null : new MskClickHouse.SchemaRegistryEmulator.RegistryEmulator();
            var env = new Dictionary<string, string?>
            {
                ["CLICKHOUSE_URL"] = (proxy?.Url ?? engine.Url).GetLeftPart(UriPartial.Authority),
                ["CLICKHOUSE_ALLOW_HTTP"] = "true",
                ["CLICKHOUSE_TIMEOUT_MS"] = "5000",
                ["CLICKHOUSE_USER"] = engine.User,
                ["CLICKHOUSE_PASSWORD"] = engine.Password,
                ["CLICKHOUSE_DATABASE"] = database,
                ["VALUE_FORMAT"] = "json,mytopic=string",
                ["POWERTOOLS_SERVICE_NAME"] = "local-run",
                ["POWERTOOLS_LOG_LEVEL"] = "Warning",
            };
            if (registry is not null)
            {
                // Framed values, decoded by the function with schemas from the built-in registry emulator.
                FramedValues.Register(registry);
                env["VALUE_FORMAT"] = $"{options.ValueFormat},mytopic=string";
                env["SCHEMA_REGISTRY_URL"] = registry.Url.ToString();
                env["GLUE_ENDPOINT_URL"] = registry.Url.ToString();
                env["AWS_ACCESS_KEY_ID"] = "AKIDLOCALRUN";
                env["AWS_SECRET_ACCESS_KEY"] = "local-run-not-a-secret";
                env["AWS_REGION"] = "us-east-1";
            }

            using var function = BootstrapProcess.Start(bootstrap, emulator.Endpoint, env);
            var initError = emulator.InitError;

            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"ClickHouse {engine.Url} (database {database}); function {bootstrap} (pid {function.ProcessId})"));
            var watch = Stopwatch.StartNew();
            if (options.ChaosSeed is { } seed)
            {
                await RunChaosAsync(emulator, function, initError, seed, ct);
                proxy!.Faults.Decide = _ => Fault.None;

                // Inserts held by the lagging replica or still to be applied late land now, before anything is counted.
                await proxy.Faults.DrainAsync();
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"ClickHouse faults injected: {proxy.Faults.Refused} refused, {proxy.Faults.Lost} answers lost after the insert was applied, {proxy.Faults.Delayed} delayed, {proxy.Faults.LateApplied} applied late after the connection dropped, {proxy.Faults.Lagged} acknowledged by a lagging replica ({proxy.Faults.LagFlushes} caught up by sequentially consistent reads)"));
            }
            else
            {
                await SendAllAsync(emulator, function, initError, batches, ct);
            }

            watch.Stop();
            await error.WriteLineAsync();
            var counts = await CountsAsync(engine, database, ct);
            await PrintSummaryAsync(counts, watch.Elapsed);
            await PrintSampleRowsAsync(engine, database, counts, ct);

            var ok = true;
            if (options.Generate > 0)
            {
                var landed = counts.Sum(c => c.Rows);
                var expected = (long)GeneratedPerPartition * options.Topics.Count * options.Partitions;
                ok &= await CheckAsync(landed == expected, $"every generated record landed exactly once (rows + dead letters = {landed}, produced {expected})");
            }

            // Re-deliver the way a lost commit does: the mapping resends, per partition, the last batch it had sent
            // (from the committed offset). Nothing may be added. Resending every batch from the start would be a
            // consumer-group rewind, which the sink deliberately treats as reprocessing (Reconciler: before the range).
            var redeliver = LastBatchPerPartition(options.ChaosSeed is null ? batches : ChaosBatches());
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"re-delivering {redeliver.Count} batches ..."));
            _partialFailures = 0;
            await SendAllAsync(emulator, function, initError, redeliver, ct, progress: false);
            await error.WriteLineAsync();
            var after = await CountsAsync(engine, database, ct);
            var unchanged = after.Zip(counts).All(p => p.First.Rows == p.Second.Rows);
            ok &= await CheckAsync(unchanged, "re-delivery added nothing: " + string.Join(", ", after.Select(c => $"{c.Table} {c.Rows}")));

            if (options.Keep)
            {
                await output.WriteLineAsync($"""

                    --keep: running until Ctrl+C.
                      curl '{engine.Url.GetLeftPart(UriPartial.Authority)}/' --user '{engine.User}:{engine.Password}' --data-binary 'SELECT count() FROM {database}.orders'
                      Runtime API emulator at {emulator.Endpoint}; function pid {function.ProcessId}
                    """);
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                }
            }

            function.Terminate();
            await function.WaitForExitAsync(TimeSpan.FromSeconds(10));
            return ok ? 0 : 1;
        }

        private int GeneratedPerPartition => (int)Math.Ceiling(options.Generate / (double)(options.Topics.Count * options.Partitions));

        private Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>>? _logs;

        private Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> Logs => _logs ??= BuildLogs();

        private Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> BuildLogs()
        {
            var logs = SimulatedLog.Build(options.ChaosSeed ?? 42, options.Topics, options.Partitions, GeneratedPerPartition, options.BadRatio);
            if (options.RecordBytes <= 120)
            {
                return Framed(logs);
            }

            // Pad the note field of good records up to about --record-bytes.
            var padded = new Dictionary<(string, int), IReadOnlyList<SimRecord>>();
            foreach (var (key, records) in logs)
            {
                padded[key] = records.Select(r =>
                {
                    var text = Encoding.UTF8.GetString(r.Value!);
                    var missing = options.RecordBytes - r.Value!.Length;
                    return missing <= 0 || !text.Contains("\"note\":\"", StringComparison.Ordinal)
                        ? r
                        : r with { Value = Encoding.UTF8.GetBytes(text.Replace("\"note\":\"", "\"note\":\"" + new string('x', missing), StringComparison.Ordinal)) };
                }).ToList();
            }

            return Framed(padded);
        }

        /// <summary>With --value-format avro|protobuf, the values framed for a schema registry (see <see cref="FramedValues"/>).</summary>
        private Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> Framed(Dictionary<(string Topic, int Partition), IReadOnlyList<SimRecord>> logs) =>
            options.ValueFormat == "json"
                ? logs
                : logs.ToDictionary(l => l.Key, l => (IReadOnlyList<SimRecord>)l.Value.Select(r => r with { Value = FramedValues.Convert(r.Value, options.ValueFormat, r.Offset) }).ToList());

        private List<byte[]> LoadBatches(string root)
        {
            if (options.Generate > 0)
            {
                foreach (var t in options.Topics)
                {
                    _topics.Add(t);
                }

                return options.ChaosSeed is null ? GeneratedBatches() : [];
            }

            var files = options.EventFiles.Count > 0
                ? options.EventFiles
                : Directory.Exists(Path.Combine(root, "events")) ? [.. Directory.EnumerateFiles(Path.Combine(root, "events"), "*.json").Order(StringComparer.Ordinal)] : [];
            if (files.Count == 0)
            {
                throw new LocalRunException("no events: events/*.json is empty; pass --events FILE... or --generate N");
            }

            var batches = new List<byte[]>();
            foreach (var file in files)
            {
                if (!File.Exists(file))
                {
                    throw new LocalRunException($"event file '{file}' does not exist");
                }

                var bytes = File.ReadAllBytes(file);
                try
                {
                    using var doc = JsonDocument.Parse(bytes);
                    if (!doc.RootElement.TryGetProperty("records", out var records) || records.ValueKind != JsonValueKind.Object)
                    {
                        throw new LocalRunException($"event file '{file}' is not an MSK event: no \"records\" object");
                    }

                    foreach (var partition in records.EnumerateObject())
                    {
                        foreach (var record in partition.Value.EnumerateArray())
                        {
                            _topics.Add(record.GetProperty("topic").GetString() ?? string.Empty);
                        }
                    }
                }
                catch (JsonException e)
                {
                    throw new LocalRunException($"event file '{file}' is not valid JSON: {e.Message}");
                }
                catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException)
                {
                    throw new LocalRunException($"event file '{file}' is not an MSK event: {e.Message}");
                }

                batches.Add(bytes);
            }

            if (options.EventFiles.Count == 0)
            {
                // The public samples all claim mytopic partition 0 with overlapping offsets; a mapping delivers each
                // partition in offset order, so the default set goes in order of its lowest offset (stable).
                batches = [.. batches.OrderBy(MinOffset)];
            }

            return batches;
        }

        /// <summary>One event holding, for every partition, its records from the last batch that carried it.</summary>
        private static List<byte[]> LastBatchPerPartition(List<byte[]> batches)
        {
            JsonObject? envelope = null;
            var last = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
            foreach (var batch in batches)
            {
                var node = JsonNode.Parse(batch)!.AsObject();
                foreach (var (mapKey, records) in node["records"]!.AsObject())
                {
                    last[mapKey] = records!.DeepClone();
                }

                envelope ??= node;
            }

            if (envelope is null)
            {
                return [];
            }

            var merged = new JsonObject();
            foreach (var (mapKey, records) in last)
            {
                merged[mapKey] = records;
            }

            envelope["records"] = merged;
            return [JsonSerializer.SerializeToUtf8Bytes(envelope)];
        }

        private static long MinOffset(byte[] payload)
        {
            using var doc = JsonDocument.Parse(payload);
            return doc.RootElement.GetProperty("records").EnumerateObject().SelectMany(p => p.Value.EnumerateArray()).Select(r => r.GetProperty("offset").GetInt64()).DefaultIfEmpty(0).Min();
        }

        /// <summary>Round-robin over partitions, --batch-size records per event, halved while the event is over 6 MB.</summary>
        private List<byte[]> GeneratedBatches()
        {
            var cursors = Logs.Keys.ToDictionary(k => k, _ => 0);
            var batches = new List<byte[]>();
            var size = options.BatchSize;
            while (cursors.Any(c => c.Value < Logs[c.Key].Count))
            {
                var batch = new List<SimRecord>(size);
                foreach (var key in cursors.Keys.ToList())
                {
                    var log = Logs[key];
                    var take = Math.Min(Math.Max(1, size / cursors.Count), log.Count - cursors[key]);
                    if (take <= 0)
                    {
                        continue;
                    }

                    batch.AddRange(log.Skip(cursors[key]).Take(take));
                }

                var bytes = KafkaEventWriter.Write(batch);
                if (bytes.Length > MaxEventBytes && size > 1)
                {
                    size /= 2;
                    continue;
                }

                foreach (var key in cursors.Keys.ToList())
                {
                    cursors[key] += batch.Count(r => (r.Topic, r.Partition) == key);
                }

                batches.Add(bytes);
            }

            return batches;
        }

        private readonly List<byte[]> _chaosSent = [];

        private async Task<string> PublishBootstrapAsync(string root, CancellationToken ct)
        {
            try
            {
                return await BootstrapPublisher.PublishAsync(root, Path.Combine(root, "artifacts", "localrun", "bootstrap"), ["-r", "linux-x64"], error, ct);
            }
            catch (InvalidOperationException e)
            {
                throw new LocalRunException(e.Message);
            }
        }

        /// <summary>
        /// Seeded ClickHouse faults: 3% refused, 3% applied but answer lost, 1% delayed by the proxy's delay, and of the
        /// inserts 2% applied late after the connection dropped and 6% acknowledged by a lagging replica.
        /// </summary>
        private static Func<HttpRequestMessage, Fault> SeededFaults(int seed)
        {
            var random = new Random(seed);
            return r =>
            {
                lock (random)
                {
                    var x = random.NextDouble();
                    var insert = FaultInjectingHandler.IsInsert(r);
                    return x < 0.03 ? Fault.RefuseBeforeSending
                        : x < 0.06 ? Fault.LoseAnswerAfterApplying
                        : x < 0.07 ? Fault.Delay
                        : x < 0.09 && insert ? Fault.LateApply
                        : x < 0.15 && insert ? Fault.LagReplica
                        : Fault.None;
                }
            };
        }

        private List<byte[]> ChaosBatches() => _chaosSent;

        private async Task RunChaosAsync(Emulator emulator, BootstrapProcess function, Task<InitErrorReport> initError, int seed, CancellationToken ct)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"chaos seed {seed}: random re-batching, bisects, redeliveries, concurrent duplicate and different batches, and ClickHouse faults (refused, answer lost, delayed, applied late, lagging replica)"));
            var simulator = new EventSourceMappingSimulator(Logs, new SimulatorOptions { MaxBatchRecords = Math.Min(options.BatchSize, 100), MaxInvocations = int.MaxValue, ConcurrentDifferentRatio = 0.05 }, seed);
            var report = await simulator.RunAsync(
                async (payload, token) =>
                {
                    lock (_chaosSent)
                    {
                        _chaosSent.Add(payload);
                    }

                    var result = await InvokeAsync(emulator, function, initError, payload, token);
                    return result.Success ? new InvocationOutcome(true, Failures(result.Body)) : InvocationOutcome.FunctionError;
                },
                ct);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"chaos: {report.Invocations} invocations, {report.FunctionErrors} function errors, {report.PartialFailures} partial failures, {report.Redeliveries} redeliveries, {report.ConcurrentDuplicates} concurrent duplicates, {report.ConcurrentDifferent} concurrent different batches, drained {report.Drained}"));
        }

        private async Task SendAllAsync(Emulator emulator, BootstrapProcess function, Task<InitErrorReport> initError, List<byte[]> batches, CancellationToken ct, bool progress = true)
        {
            var watch = Stopwatch.StartNew();
            var lastPrint = 0L;
            foreach (var batch in batches)
            {
                var result = await InvokeAsync(emulator, function, initError, batch, ct);
                if (!result.Success)
                {
                    throw new LocalRunException($"the function failed: {result.ErrorType}: {result.ErrorMessage}\n{Tail(function)}");
                }

                if (Failures(result.Body).Count > 0)
                {
                    _partialFailures++;
                    await error.WriteLineAsync("partial batch response: " + result.BodyText);
                }

                if (progress && watch.ElapsedMilliseconds - lastPrint > 1000)
                {
                    lastPrint = watch.ElapsedMilliseconds;
                    await error.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"\r{_records,12:N0} records, {_records / watch.Elapsed.TotalSeconds,10:N0} records/s"));
                }
            }
        }

        private async Task<InvocationResult> InvokeAsync(Emulator emulator, BootstrapProcess function, Task<InitErrorReport> initError, byte[] payload, CancellationToken ct)
        {
            var invocation = emulator.EnqueueAsync(payload, TimeSpan.FromMinutes(2), cancellationToken: ct);
            var done = await Task.WhenAny(invocation, initError);
            if (done == initError)
            {
                var report = await initError;
                throw new LocalRunException($"the function failed to start: {report.ErrorType}: {report.ErrorMessage}");
            }

            var result = await invocation;
            lock (_latenciesMs)
            {
                _latenciesMs.Add((result.CompletedTimestamp - result.NextServedTimestamp) * 1000.0 / Stopwatch.Frequency);
                _invocations++;
                _bytes += payload.Length;
                _records += CountRecords(payload);
            }

            return result;
        }

        private static int CountRecords(byte[] payload)
        {
            using var doc = JsonDocument.Parse(payload);
            return doc.RootElement.GetProperty("records").EnumerateObject().Sum(p => p.Value.GetArrayLength());
        }

        private static List<(string MapKey, long Offset)> Failures(byte[] body)
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("batchItemFailures", out var f)
                ? [.. f.EnumerateArray().Select(x => (x.GetProperty("itemIdentifier").GetProperty("topic-partition").GetString()!, x.GetProperty("itemIdentifier").GetProperty("offset").GetInt64()))]
                : [];
        }

        private async Task<Engine> StartEngineAsync(CancellationToken ct)
        {
            if (options.ClickHouseUrl is { } url)
            {
                var user = Environment.GetEnvironmentVariable("CLICKHOUSE_USER") ?? "default";
                var password = Environment.GetEnvironmentVariable("CLICKHOUSE_PASSWORD") ?? string.Empty;
                var external = new Engine(url, user, password, null);
                try
                {
                    await external.QueryAsync("SELECT 1", ct);
                }
                catch (HttpRequestException e)
                {
                    throw new LocalRunException($"ClickHouse at {url} is unreachable: {e.Message}");
                }

                return external;
            }

            await error.WriteLineAsync("starting the embedded ClickHouse (chDB) ...");
            try
            {
                var server = await EmbeddedClickHouse.StartAsync(cancellationToken: ct);
                return new Engine(server.BaseUri, server.User, server.Password, server);
            }
            catch (Exception e) when (e is InvalidOperationException or FileNotFoundException)
            {
                throw new LocalRunException($"the embedded ClickHouse did not start (is CHDB_LIB set? run.sh sets it): {e.Message}");
            }
        }

        private async Task CreateTablesAsync(Engine engine, string database, CancellationToken ct)
        {
            const string Metadata = "_topic String, _partition Int32, _offset Int64, _timestamp DateTime64(3, 'UTC'), _key Nullable(String), _headers Map(String, String)";
            const string Dedup = "SETTINGS non_replicated_deduplication_window = 10000";
            await engine.QueryAsync($"CREATE DATABASE IF NOT EXISTS {database}", ct);
            await engine.QueryAsync($"CREATE TABLE {database}.mytopic (value String, {Metadata}) ENGINE = MergeTree ORDER BY (_topic, _partition, _offset) {Dedup}", ct);
            var generated = options.Generate > 0 ? options.Topics.ToHashSet(StringComparer.Ordinal) : new HashSet<string>(["orders", "clicks"], StringComparer.Ordinal);
            generated.Add("orders");
            generated.Add("clicks");
            foreach (var topic in generated)
            {
                // clicks is a plain table (no metadata columns); every other generated topic gets them.
                var columns = topic == "clicks" ? "id String, n UInt64, amount Float64, note String" : $"id String, n UInt64, amount Float64, note String, {Metadata}";
                var order = topic == "clicks" ? "id" : "(_topic, _partition, _offset)";
                await engine.QueryAsync($"CREATE TABLE IF NOT EXISTS {database}.{topic} ({columns}) ENGINE = MergeTree ORDER BY {order} {Dedup}", ct);
            }

            _tables = [.. generated.Order(StringComparer.Ordinal), "mytopic"];
        }

        private List<string> _tables = [];

        private async Task<List<(string Table, long Rows)>> CountsAsync(Engine engine, string database, CancellationToken ct)
        {
            var counts = new List<(string, long)>();
            foreach (var table in _tables.Append("kafka_dead_letters"))
            {
                var text = await engine.QueryAsync($"SELECT count() FROM {database}.{table}", ct);
                counts.Add((table, long.Parse(text.Trim(), CultureInfo.InvariantCulture)));
            }

            return counts;
        }

        private async Task PrintSummaryAsync(List<(string Table, long Rows)> counts, TimeSpan elapsed)
        {
            var sorted = _latenciesMs.Order().ToList();
            double P(double q) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
            var s = elapsed.TotalSeconds;
            var sb = new StringBuilder()
                .AppendLine()
                .AppendLine("| metric | value |")
                .AppendLine("| --- | --- |")
                .AppendLine(CultureInfo.InvariantCulture, $"| records sent | {_records:N0} in {_invocations:N0} invocations |");
            foreach (var (table, rows) in counts)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {(table == "kafka_dead_letters" ? "dead letters" : "rows in " + table)} | {rows:N0} |");
            }

            sb.AppendLine(CultureInfo.InvariantCulture, $"| partial batch responses | {_partialFailures:N0} |")
                .AppendLine(CultureInfo.InvariantCulture, $"| wall time | {s:0.00} s |")
                .AppendLine(CultureInfo.InvariantCulture, $"| throughput | {_records / s:N0} records/s, {_bytes / 1048576.0 / s:0.00} MB/s of events |")
                .AppendLine(CultureInfo.InvariantCulture, $"| latency per invocation | p50 {P(0.5):0.0} ms, p95 {P(0.95):0.0} ms |");
            await output.WriteAsync(sb.ToString());
        }

        private async Task PrintSampleRowsAsync(Engine engine, string database, List<(string Table, long Rows)> counts, CancellationToken ct)
        {
            foreach (var (table, rows) in counts.Where(c => c.Rows > 0))
            {
                var columns = table == "kafka_dead_letters" ? "topic, partition, offset, substring(ifNull(value, ''), 1, 40) AS value, substring(error, 1, 60) AS error" : "*";
                var text = await engine.QueryAsync($"SELECT {columns} FROM {database}.{table} LIMIT 3 FORMAT PrettyCompactMonoBlock", ct);
                await output.WriteLineAsync($"\n{database}.{table}:\n{text.TrimEnd()}");
            }
        }

        private async Task<bool> CheckAsync(bool ok, string what)
        {
            await output.WriteLineAsync((ok ? "OK    " : "FAILED ") + what);
            return ok;
        }

        private static string Tail(BootstrapProcess function) => string.Join('\n', function.StandardOutputLines.TakeLast(10).Concat(function.StandardErrorLines.TakeLast(10)));
    }

    /// <summary>ClickHouse over HTTP: the embedded server (owned) or an existing one.</summary>
    private sealed class Engine(Uri url, string user, string password, EmbeddedClickHouse? owned) : IAsyncDisposable
    {
        private readonly HttpClient _http = CreateClient(url, user, password);

        public Uri Url => url;

        public string User => user;

        public string Password => password;

        public async Task<string> QueryAsync(string sql, CancellationToken ct)
        {
            using var content = new StringContent(sql, Encoding.UTF8);
            using var response = await _http.PostAsync(new Uri("/", UriKind.Relative), content, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            return response.IsSuccessStatusCode ? body : throw new LocalRunException($"ClickHouse answered {(int)response.StatusCode} to '{sql}': {body.Trim()}");
        }

        public async ValueTask DisposeAsync()
        {
            _http.Dispose();
            if (owned is not null)
            {
                await owned.DisposeAsync();
            }
        }

        private static HttpClient CreateClient(Uri url, string user, string password)
        {
            var http = new HttpClient { BaseAddress = new Uri(url.GetLeftPart(UriPartial.Authority)), Timeout = TimeSpan.FromMinutes(5) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
            return http;
        }
    }
}

/// <summary>An environment problem or bad input file; the message is for the user.</summary>
public sealed class LocalRunException(string message) : Exception(message);
