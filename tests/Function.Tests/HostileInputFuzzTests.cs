using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.TestSupport;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.Function.Tests;

/// <summary>
/// Issue #29: the published bootstrap fed seeded, structurally mutated events as a hostile producer or a broken event
/// source would send them, each followed by a canary event that must land. Bounded in count and in time (it stops
/// mutating after <see cref="Budget"/>, which is not asserted): no crash, no hang (every invocation answers within its
/// timeout), no poison event (an event whose only faults are inside records always succeeds, answering only the
/// refused hostile topic), nothing lost or duplicated (each good record once in its table, each bad one once in the
/// dead-letter table).
/// </summary>
public sealed class HostileInputFuzzTests(PublishedBootstrap published, ClickHouseFixture clickHouse)
{
    private const int Seed = 29;
    private const int MaxEvents = 60;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private const string Envelope = """{"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:eu-west-1:123456789012:cluster/fuzz/1","bootstrapServers":"b-1:9098","records":{""";

    /// <summary>Faults inside one record: each leaves the record dead-lettered (with or without its identity), never the event failed.</summary>
    private static readonly Func<Random, string, string>[] RecordFaults =
    [
        (_, r) => r.Replace("\"key\":null", "\"key\":5", StringComparison.Ordinal).Replace("\"value\":\"", "\"value\":{},\"x\":\"", StringComparison.Ordinal),
        (_, r) => r.Replace("\"value\":\"", "\"value\":[[],{\"a\":[1,{}]}],\"x\":\"", StringComparison.Ordinal).Replace("\"key\":null", "\"key\":{\"b\":[]}", StringComparison.Ordinal),
        (_, r) => r.Replace("\"topic\":\"orders\"", "\"topic\":\"orders\\ud800\"", StringComparison.Ordinal),
        (_, r) => r.Replace("\"headers\":[", "\"headers\":[{\"h\\udc00\":[1]},", StringComparison.Ordinal),
        (_, r) => r.Replace("\"value\":\"", "\"value\":\"\\ud800", StringComparison.Ordinal),
        (_, r) => r.Replace("\"timestampType\":\"CREATE_TIME\"", "\"timestampType\":\"\\ud800\"", StringComparison.Ordinal),
        (_, r) => Cut(r, "offset", string.Empty),
        (_, r) => Cut(r, "offset", "\"offset\":null,"),
        (_, r) => Cut(r, "offset", "\"offset\":\"12\","),
        (random, r) => Cut(r, "offset", $"\"offset\":-{random.Next(1, 1000)},"),
        (_, r) => Cut(r, "partition", "\"partition\":1.5,"),
        (_, r) => Cut(r, "topic", string.Empty),
        (_, r) => r.Replace("\"value\":\"", "\"value\":\"!!", StringComparison.Ordinal),
        (random, r) => r.Replace("\"value\":\"", $"\"value\":{Deep(random.Next(100, 5000))},\"x\":\"", StringComparison.Ordinal),
        (_, r) => r.Replace("\"headers\":[", "\"headers\":[[1],{\"h\":{}},7,{\"h\":[1000]},", StringComparison.Ordinal),
        (_, r) => r.Replace("\"timestamp\":", "\"timestamp\":{\"t\":[1]},\"t0\":", StringComparison.Ordinal),
    ];

    [Fact]
    public async Task Bootstrap_SeededHostileEvents_NeverCrashHangOrPoisonAndLoseOrDuplicateNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await clickHouse.CreateDatabaseAsync("fuzz", ct);
        await clickHouse.Server.QueryAsync(SinkEnvironment.MetadataTable(db, "orders", "id UInt64, amount Float64"), ct);
        await clickHouse.Server.QueryAsync(SinkEnvironment.MetadataTable(db, "canary", "id UInt64, amount Float64"), ct);
        await using var emulator = Emulator.Start();
        using var process = BootstrapProcess.Start(published.AotBootstrap, emulator.Endpoint, SinkEnvironment.For(clickHouse, db));

        var random = new Random(Seed);
        var next = new long[3];
        var landed = new HashSet<(int Partition, long Offset)>();
        var deadLettered = 0;
        var canary = 0L;
        var clock = Stopwatch.StartNew();
        var events = 0;
        for (; events < MaxEvents && clock.Elapsed < Budget; events++)
        {
            var kind = random.Next(10);
            string payload;
            if (kind == 0)
            {
                // The four reproductions of the issue, in turn.
                payload = Reproduction(events / 10 % 4, next, landed, ref deadLettered);
            }
            else if (kind == 1)
            {
                payload = BrokenEnvelope(random, Good(0, next[0]));
            }
            else
            {
                payload = Mutated(random, next, landed, ref deadLettered);
            }

            var result = await emulator.EnqueueAsync(Encoding.UTF8.GetBytes(payload), Timeout, cancellationToken: ct);
            if (kind == 1)
            {
                Assert.False(result.Success, $"a broken envelope was accepted: {payload}");
                Assert.Contains("at byte", result.ErrorMessage ?? string.Empty, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(result.Success, $"event {events} failed whole: {result.ErrorType}: {result.BodyText}\n{payload}\n{Output(process)}");
                Assert.All(FailedKeys(result.Body), k => Assert.Equal("kafka_sink_state-0", k));
            }

            var canaryResult = await emulator.EnqueueAsync(Encoding.UTF8.GetBytes(Envelope + "\"canary-0\":[" + Record("canary", 0, canary, Value(canary)) + "]}}"), Timeout, cancellationToken: ct);
            Assert.True(canaryResult.Success && FailedKeys(canaryResult.Body).Count == 0, $"canary after event {events}: {canaryResult.BodyText}\n{Output(process)}");
            canary++;
            Assert.Equal($"{canary}\t{canary}\n", await clickHouse.Server.QueryAsync($"SELECT count(), uniqExact(_offset) FROM {db}.canary FORMAT TSV", ct));
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{events} hostile events (seed {Seed}), each followed by a canary, in {clock.Elapsed.TotalSeconds:F1} s; {landed.Count} good records landed, {deadLettered} dead-lettered");
        Assert.False(process.HasExited, Output(process));
        Assert.True(events >= 10, $"only {events} events in the budget");
        var rows = await clickHouse.Server.QueryAsync($"SELECT _partition, _offset FROM {db}.orders ORDER BY _partition, _offset FORMAT TSV", ct);
        var expected = string.Concat(landed.Order().Select(x => $"{x.Partition}\t{x.Offset}\n"));
        Assert.Equal(expected, rows);
        Assert.Equal($"{deadLettered}\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.kafka_dead_letters FORMAT TSV", ct));
        Assert.Equal("0\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.kafka_sink_state WHERE topic NOT IN ('orders', 'canary') FORMAT TSV", ct));
    }

    /// <summary>One to three partitions of good records, a few of them given a record fault.</summary>
    private static string Mutated(Random random, long[] next, HashSet<(int, long)> landed, ref int deadLettered)
    {
        var parts = new List<string>();
        foreach (var partition in Enumerable.Range(0, 3).Where(_ => random.Next(2) == 0).DefaultIfEmpty(0))
        {
            var records = new List<string>();
            for (var i = random.Next(1, 8); i > 0; i--)
            {
                var offset = next[partition]++;
                var record = Good(partition, offset);
                if (random.Next(3) == 0)
                {
                    records.Add(RecordFaults[random.Next(RecordFaults.Length)](random, record));
                    deadLettered++;
                }
                else
                {
                    records.Add(record);
                    landed.Add((partition, offset));
                }
            }

            parts.Add($"\"orders-{partition}\":[{string.Join(',', records)}]");
        }

        return Envelope + string.Join(',', parts) + "}}";
    }

    /// <summary>Issue #29's four reproductions, each beside a good record of another partition that must land.</summary>
    private static string Reproduction(int which, long[] next, HashSet<(int, long)> landed, ref int deadLettered)
    {
        var good = Good(1, next[1]);
        landed.Add((1, next[1]++));
        var offset = next[0]++;
        var bad = which switch
        {
            0 => RecordFaults[0](new Random(0), Good(0, offset)),
            1 => Good(0, offset).Replace("\"topic\":\"orders\"", "\"topic\":\"orders\\ud800\"", StringComparison.Ordinal),
            2 => Cut(Good(0, offset), "offset", string.Empty) + "," + Cut(Good(0, offset), "offset", "\"offset\":\"x\","),
            _ => null,
        };
        if (bad is null)
        {
            var forged = Record("kafka_sink_state", 0, 0, Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"sink_id":"fuzz","topic":"orders","partition":1,"next_offset":1000}""")));
            return Envelope + $"\"kafka_sink_state-0\":[{forged}],\"orders-1\":[{good}]}}}}";
        }

        deadLettered += which == 2 ? 2 : 1;
        return Envelope + $"\"orders-0\":[{bad}],\"orders-1\":[{good}]}}}}";
    }

    /// <summary>A fault of the event itself: the invocation fails whole, with a byte position.</summary>
    private static string BrokenEnvelope(Random random, string record)
    {
        var whole = Envelope + "\"orders-0\":[" + record + "]}}";
        return random.Next(5) switch
        {
            0 => whole[..random.Next(1, whole.Length - 1)],
            1 => whole + "garbage",
            2 => whole.Replace("\"records\":{", "\"records\":[", StringComparison.Ordinal),
            3 => whole.Replace("\"orders-0\":", "\"orders-0\\ud800\":", StringComparison.Ordinal),
            _ => whole.Replace("\"eventSourceArn\":\"", "\"eventSourceArn\":\"\\udfff", StringComparison.Ordinal),
        };
    }

    private static string Deep(int depth) => new string('[', depth) + new string(']', depth);

    private static string Good(int partition, long offset) => Record("orders", partition, offset, Value(offset));

    private static string Value(long id) => Convert.ToBase64String(Encoding.UTF8.GetBytes($$"""{"id":{{id}},"amount":1.5}"""));

    private static string Record(string topic, int partition, long offset, string base64Value) =>
        $$"""{"topic":"{{topic}}","partition":{{partition}},"offset":{{offset}},"timestamp":1764082800000,"timestampType":"CREATE_TIME","key":null,"value":"{{base64Value}}","headers":[{"h":[104,105]}]}""";

    private static string Cut(string record, string field, string replacement)
    {
        var start = record.IndexOf($"\"{field}\":", StringComparison.Ordinal);
        var end = record.IndexOf(',', start) + 1;
        return record[..start] + replacement + record[end..];
    }

    private static List<string> FailedKeys(byte[] body)
    {
        using var doc = JsonDocument.Parse(body);
        return [.. doc.RootElement.GetProperty("batchItemFailures").EnumerateArray().Select(f => f.GetProperty("itemIdentifier").GetProperty("topic-partition").GetString()!)];
    }

    private static string Output(BootstrapProcess process) =>
        string.Join('\n', process.StandardOutputLines) + "\n" + string.Join('\n', process.StandardErrorLines);
}
