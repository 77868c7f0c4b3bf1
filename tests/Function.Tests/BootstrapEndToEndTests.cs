using System.Text;
using System.Text.Json;
using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.TestSupport;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Function.Tests;

/// <summary>The published bootstrap, run as Lambda runs it, against the Runtime API emulator and the embedded ClickHouse.</summary>
public sealed class BootstrapEndToEndTests(PublishedBootstrap published, ClickHouseFixture clickHouse)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>One JSON record for topic <c>orders</c> (id 1, amount 9.99) at partition 0, offset 15.</summary>
    internal static readonly byte[] MskEvent = Encoding.UTF8.GetBytes("""
        {"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:eu-west-1:123456789012:cluster/demo/abc","bootstrapServers":"b-1:9098",
         "records":{"orders-0":[{"topic":"orders","partition":0,"offset":15,"timestamp":1764082800000,"timestampType":"CREATE_TIME",
         "key":"b3JkZXItMQ==","value":"eyJpZCI6MSwiYW1vdW50Ijo5Ljk5fQ==","headers":[]}]}}
        """);

    internal const string OrdersColumns = "id UInt32, amount Float64";

    /// <summary>
    /// The public samples, in an order where no sample's offsets fall below those already delivered for its partition
    /// (they all claim topic mytopic; the schema-metadata one repeats offset 15, which the developer-guide one delivered).
    /// </summary>
    private static readonly string[] Samples =
    [
        "powertools-python_getting_started_kafka_event.json",
        "aws-lambda-developer-guide_with-msk_example.json",
        "aws-lambda-dotnet_EventsTests_kafka-event.json",
        "powertools-python_kafkaEventMsk_with_schema_metadata.json",
    ];

    [Theory]
    [InlineData("aot")]
    [InlineData("jit")]
    public async Task Bootstrap_DeliversThePublicSamples_LogsPowertoolsJson_EmitsEmf_AndStopsOnSigterm(string flavour)
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await clickHouse.CreateDatabaseAsync("e2e", ct);
        await clickHouse.Server.QueryAsync(SinkEnvironment.MetadataTable(db, "mytopic", "value String"), ct);
        var env = SinkEnvironment.For(clickHouse, db);
        env["VALUE_FORMAT"] = "string";
        await using var emulator = Emulator.Start();
        using var process = BootstrapProcess.Start(Path(flavour), emulator.Endpoint, env);

        var requestIds = new List<string>();
        foreach (var sample in Samples)
        {
            var result = await emulator.EnqueueAsync(await File.ReadAllBytesAsync(SamplePath(sample), ct), Timeout, cancellationToken: ct);
            Assert.True(result.Success, $"{sample}: {result.ErrorType}: {result.BodyText}\n{Output(process)}");
            Assert.Equal("""{"batchItemFailures":[]}""", result.BodyText);
            requestIds.Add(result.RequestId);
        }

        // The aws-lambda-dotnet sample: map key mytopic-0, but the record says partition 12; its headers are raw bytes.
        var dotnet = await clickHouse.Server.QueryAsync(
            $"SELECT value, _topic, _partition, _offset, toUnixTimestamp64Milli(_timestamp), _key, _headers['headerKey'], startsWith(_headers['traceparent'], '00-691cce72f274a6d68af668f63ab4a9c1') FROM {db}.mytopic WHERE _partition = 12 FORMAT TSV",
            ct);
        var fields = dotnet.TrimEnd('\n').Split('\t');
        Assert.True(fields.Length == 8, $"one row for partition 12 expected, got:\n{dotnet}\n{Output(process)}");
        Assert.Equal("Hello, this is a test.", fields[0]);
        Assert.Equal("mytopic", fields[1]);
        Assert.Equal("12", fields[2]);
        Assert.Equal("3043205", fields[3]);
        Assert.Equal("338646672", fields[5]);
        Assert.Equal("headerValue", fields[6]);
        Assert.Equal("1", fields[7]);

        // Partition 0: offsets 0-2 (getting started) and 15 from two clusters: the developer guide's (sa-east-1) and the
        // schema-metadata sample's (us-east-1 SalesCluster) are different sources, so both records land (issue #12).
        var partition0 = await clickHouse.Server.QueryAsync($"SELECT _offset, value FROM {db}.mytopic WHERE _partition = 0 ORDER BY _offset, value FORMAT TSV", ct);
        Assert.Equal("0\t{\"message\": \"Success\"}\n1\t{\"message\": \"Failure\"}\n2\t{\"message\": \"Success\"}\n15\tHello, this is a test.\n15\t{\"key\":\"value\"}\n", partition0);
        Assert.Equal("0\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.kafka_dead_letters", ct));

        var logLine = await process.WaitForOutputLineAsync(l => l.Contains(requestIds[0], StringComparison.Ordinal) && l.Contains("\"level\"", StringComparison.Ordinal), Timeout);
        using (var log = JsonDocument.Parse(logLine))
        {
            var root = log.RootElement;
            foreach (var key in new[] { "level", "message", "timestamp", "service", "cold_start", "function_name", "function_request_id", "xray_trace_id" })
            {
                Assert.True(root.TryGetProperty(key, out _), $"log line without '{key}': {logLine}");
            }

            Assert.Equal("e2e-sink", root.GetProperty("service").GetString());
            Assert.True(root.GetProperty("cold_start").GetBoolean());
            Assert.Equal("msk-clickhouse-sink", root.GetProperty("function_name").GetString());
            Assert.Equal(requestIds[0], root.GetProperty("function_request_id").GetString());
            Assert.Equal(512, root.GetProperty("function_memory_size").GetInt32());
            Assert.Equal(emulator.Options.FunctionArn, root.GetProperty("function_arn").GetString());
            Assert.StartsWith("1-", root.GetProperty("xray_trace_id").GetString(), StringComparison.Ordinal);
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", root.GetProperty("timestamp").GetString()!);
            Assert.False(string.IsNullOrEmpty(root.GetProperty("message").GetString()));
        }

        var emf = await process.WaitForOutputLineAsync(
            l => l.StartsWith("{\"_aws\"", StringComparison.Ordinal) && l.Contains(requestIds[2], StringComparison.Ordinal), Timeout);
        using (var metrics = JsonDocument.Parse(emf))
        {
            Assert.Equal(1, metrics.RootElement.GetProperty("RecordsReceived").GetInt32());
            Assert.Equal(1, metrics.RootElement.GetProperty("RowsInserted").GetInt32());
        }

        Assert.All(process.StandardOutputLines, l => JsonDocument.Parse(l).Dispose());

        process.Terminate();
        Assert.Equal(0, await process.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Bootstrap_JsonTopic_SplitsRowsFromDeadLetters_AndReportsAPartitionWithoutTable()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await clickHouse.CreateDatabaseAsync("e2e", ct);
        await clickHouse.Server.QueryAsync(SinkEnvironment.MetadataTable(db, "orders", OrdersColumns), ct);
        await using var emulator = Emulator.Start();
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, SinkEnvironment.For(clickHouse, db));

        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        static string Record(string topic, int partition, long offset, string value) =>
            $$"""{"topic":"{{topic}}","partition":{{partition}},"offset":{{offset}},"timestamp":1764082800000,"timestampType":"CREATE_TIME","key":null,"value":"{{B64(value)}}","headers":[{"source":[101,50,101]}]}""";
        var mixed = Encoding.UTF8.GetBytes(
            """{"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:eu-west-1:123456789012:cluster/demo/abc","bootstrapServers":"b-1:9098","records":{"orders-0":["""
            + Record("orders", 0, 100, """{"id":1,"amount":9.99}""") + ","
            + Record("orders", 0, 101, "Hello, this is a test.") + ","
            + Record("orders", 0, 102, """{"id":"not a number","amount":1}""") + ","
            + Record("orders", 0, 103, """{"id":4,"amount":0.5}""")
            + "],\"nosuchtable-3\":["
            + Record("nosuchtable", 3, 7, """{"id":1}""") + ","
            + Record("nosuchtable", 3, 8, """{"id":2}""")
            + "]}}");

        var result = await emulator.EnqueueAsync(mixed, Timeout, cancellationToken: ct);

        Assert.True(result.Success, $"{result.ErrorType}: {result.BodyText}\n{Output(process)}");
        using (var response = JsonDocument.Parse(result.Body))
        {
            var failure = Assert.Single(response.RootElement.GetProperty("batchItemFailures").EnumerateArray());
            var id = failure.GetProperty("itemIdentifier");
            Assert.Equal("nosuchtable-3", id.GetProperty("topic-partition").GetString());
            Assert.Equal(7, id.GetProperty("offset").GetInt64());
        }

        Assert.Equal(
            "1\t9.99\t100\te2e\n4\t0.5\t103\te2e\n",
            await clickHouse.Server.QueryAsync($"SELECT id, amount, _offset, _headers['source'] FROM {db}.orders ORDER BY _offset FORMAT TSV", ct));
        var dead = await clickHouse.Server.QueryAsync($"SELECT offset, target_table, value, error != '' FROM {db}.kafka_dead_letters ORDER BY offset FORMAT TSV", ct);
        var lines = dead.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length == 2, dead);
        Assert.StartsWith($"101\t{db}.orders\tHello, this is a test.\t1", lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"102\t{db}.orders\t", lines[1], StringComparison.Ordinal);

        // Re-delivering the same batch (the mapping retries the failed partition) adds nothing to orders.
        var again = await emulator.EnqueueAsync(mixed, Timeout, cancellationToken: ct);
        Assert.True(again.Success, again.BodyText);
        Assert.Equal("2\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.orders", ct));
        Assert.Equal("2\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.kafka_dead_letters", ct));
    }

    [Theory]
    [InlineData("aot")]
    [InlineData("jit")]
    public async Task Bootstrap_MissingClickHouseUrl_ReportsAnInitErrorNamingIt_AndExitsNonZero(string flavour)
    {
        await using var emulator = Emulator.Start();
        var env = SinkEnvironment.For(clickHouse, "default");
        env["CLICKHOUSE_URL"] = null;
        using var process = BootstrapProcess.Start(Path(flavour), emulator.Endpoint, env);

        var report = await emulator.InitError.WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Equal("ConfigurationException", report.ErrorType);
        Assert.Contains("CLICKHOUSE_URL", report.ErrorMessage, StringComparison.Ordinal);
        Assert.NotEqual(0, await process.WaitForExitAsync(Timeout));
        // Before the options exist the runtime logs with the service name read from the process environment.
        Assert.Contains(process.StandardOutputLines, l => l.Contains("\"Critical\"", StringComparison.Ordinal) && l.Contains("CLICKHOUSE_URL", StringComparison.Ordinal)
            && l.Contains("\"service\":\"e2e-sink\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bootstrap_UnreachableClickHouse_ReportsAnInitErrorNamingTheUrl_AndExitsNonZero()
    {
        await using var emulator = Emulator.Start();
        var env = SinkEnvironment.For(clickHouse, "default");
        env["CLICKHOUSE_URL"] = "http://127.0.0.1:1";
        env["CLICKHOUSE_TIMEOUT_MS"] = "2000";
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        var report = await emulator.InitError.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        Assert.Contains("127.0.0.1:1", report.ErrorMessage, StringComparison.Ordinal);
        Assert.NotEqual(0, await process.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Bootstrap_MissingTopicTable_ReportsAnInitErrorNamingTopicTables()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await clickHouse.CreateDatabaseAsync("e2e", ct);
        await using var emulator = Emulator.Start();
        var env = SinkEnvironment.For(clickHouse, db);
        env["TOPIC_TABLES"] = "orders=orders_v2";
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        var report = await emulator.InitError.WaitAsync(Timeout, ct);

        Assert.Contains("TOPIC_TABLES", report.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("orders_v2", report.ErrorMessage, StringComparison.Ordinal);
        Assert.NotEqual(0, await process.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Bootstrap_SecretArnWithoutCredentials_ReportsAnInitErrorNamingTheSecretVariable()
    {
        await using var emulator = Emulator.Start();
        var env = SinkEnvironment.For(clickHouse, "default");
        env["CLICKHOUSE_PASSWORD"] = null;
        env["CLICKHOUSE_PASSWORD_SECRET_ARN"] = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ch-AbCdEf";
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        var report = await emulator.InitError.WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Contains("CLICKHOUSE_PASSWORD_SECRET_ARN", report.ErrorMessage, StringComparison.Ordinal);
        Assert.NotEqual(0, await process.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task Bootstrap_WithoutRuntimeApiVariable_SaysSoAndExitsNonZero()
    {
        await using var emulator = Emulator.Start();
        var env = SinkEnvironment.For(clickHouse, "default");
        env["AWS_LAMBDA_RUNTIME_API"] = null;
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, env);

        Assert.Equal(2, await process.WaitForExitAsync(Timeout));
        Assert.Contains(process.StandardOutputLines, l => l.Contains("AWS_LAMBDA_RUNTIME_API", StringComparison.Ordinal));
    }

    private string Path(string flavour) => flavour == "aot" ? published.AotBootstrap : published.JitBootstrap;

    private string SamplePath(string name) => System.IO.Path.Combine(published.RepositoryRoot, "tests", "Core.Tests", "Fixtures", "events", name);

    private static string Output(BootstrapProcess process) =>
        string.Join('\n', process.StandardOutputLines) + "\n" + string.Join('\n', process.StandardErrorLines);
}
