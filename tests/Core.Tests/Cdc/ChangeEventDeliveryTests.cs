using System.Text;
using MskClickHouse.Core.Logging;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Cdc;

/// <summary>
/// Debezium change events through the real sink into ReplacingMergeTree tables on the embedded engine: the issue's
/// "done when" (a generated history under redeliveries, re-batching and faults ends with the source's final state
/// under FINAL and one row per row-producing change without it), the fill path after a merge, and the edge events.
/// </summary>
public sealed class ChangeEventDeliveryTests(ClickHouseFixture fixture)
{
    private const int Partitions = 3;

    [Theory]
    [InlineData(CdcValues.JsonWithSchema, 1)]
    [InlineData(CdcValues.JsonWithoutSchema, 2)]
    [InlineData(CdcValues.Avro, 3)]
    public async Task History_UnderRedeliveriesRebatchingAndFaults_EndsWithTheSourceStateAndOneRowPerChange(CdcValues values, int seed)
    {
        using var h = await CdcSink.CreateAsync(fixture, values, seed);
        var history = ChangeHistory.Generate(seed);
        var logs = ChangeLog.Build(history, Partitions, h.Value);
        // Merges stopped: count() without FINAL is then every row the sink inserted.
        await fixture.Server.QueryAsync($"SYSTEM STOP MERGES {h.Database}.{ChangeHistory.Customers}", TestContext.Current.CancellationToken);
        var random = new Random(seed);
        h.Faults.Decide = _ =>
        {
            lock (random)
            {
                var x = random.NextDouble();
                return x < 0.05 ? Fault.RefuseBeforeSending : x < 0.10 ? Fault.LoseAnswerAfterApplying : Fault.None;
            }
        };

        var report = await new EventSourceMappingSimulator(logs, new SimulatorOptions { MaxBatchRecords = 12, RedeliverRatio = 0.25, MaxInvocations = 2000 }, seed)
            .RunAsync((payload, _) => h.InvokeAsync(payload), CancellationToken.None);
        await h.Faults.DrainAsync();

        Assert.True(report.Drained, report.ToString());
        Assert.True(report.Redeliveries > 0 && h.Faults.Lost + h.Faults.Refused > 0, $"{report}; lost {h.Faults.Lost}, refused {h.Faults.Refused}: too few faults to mean anything");
        Assert.True(history.Changes.Count(c => c.Op == 'u') > history.FinalCustomers.Count, "the history has several updates per key");
        Assert.Equal(string.Empty, await h.TextAsync($"SELECT offset, error FROM {h.Database}.kafka_dead_letters ORDER BY offset LIMIT 3 FORMAT TSVRaw"));
        Assert.Equal(h.Expected(history.FinalCustomers), await h.LiveRowsAsync(ChangeHistory.Customers));
        Assert.Equal(history.RowChanges(ChangeHistory.Customers), await h.ScalarAsync($"SELECT count() FROM {h.Database}.{ChangeHistory.Customers}"));
        Assert.Equal(history.RowChanges(ChangeHistory.Customers), await h.ScalarAsync($"SELECT uniqExact(_partition, _offset) FROM {h.Database}.{ChangeHistory.Customers}"));

        // A truncate deletes nothing (docs/cdc.md): every note inserted stays, and the sink said so.
        Assert.Equal(history.RowChanges(ChangeHistory.Notes), await h.ScalarAsync($"SELECT count() FROM {h.Database}.{ChangeHistory.Notes} FINAL WHERE _is_deleted = 0"));
        Assert.True(history.FinalNotes.Count < history.RowChanges(ChangeHistory.Notes));
        Assert.Contains(h.Log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("op 't' skipped", StringComparison.Ordinal));
        // Every delivery of a tombstone counts it (a redelivered batch again): at least once each.
        Assert.True(h.Metrics.Sum(m => m.TombstonesSkipped) >= history.Changes.Count(c => c.IsTombstone));
    }

    /// <summary>
    /// A batch delivered, merged (OPTIMIZE … FINAL folds every old version of a key away), then delivered again: the
    /// presence probe sees the folded offsets missing, and only their newer versions in the table keep them from being
    /// inserted again. Without that, the old versions come back as rows (harmless under FINAL, duplicates without).
    /// </summary>
    [Fact]
    public async Task Redelivery_AfterAMergeFoldedOldVersions_InsertsNothingAgain()
    {
        using var h = await CdcSink.CreateAsync(fixture, CdcValues.JsonWithSchema);
        var history = ChangeHistory.Generate(seed: 7, snapshotRows: 5, changes: 40);
        var log = ChangeLog.Build(history, partitions: 1, h.Value)[(ChangeHistory.Customers, 0)];
        var payload = KafkaEventWriter.Write(log);

        Assert.Empty((await h.InvokeAsync(payload)).Failures);
        Assert.Equal(history.RowChanges(ChangeHistory.Customers), await h.ScalarAsync($"SELECT count() FROM {h.Database}.customers"));
        await fixture.Server.QueryAsync($"OPTIMIZE TABLE {h.Database}.customers FINAL", TestContext.Current.CancellationToken);
        var merged = await h.ScalarAsync($"SELECT count() FROM {h.Database}.customers");
        Assert.True(merged < history.RowChanges(ChangeHistory.Customers), "the merge folded old versions away");
        await fixture.Server.QueryAsync($"SYSTEM STOP MERGES {h.Database}.customers", TestContext.Current.CancellationToken);

        var again = await h.InvokeAsync(payload);

        Assert.True(again.Succeeded);
        Assert.Empty(again.Failures);
        Assert.Equal(merged, await h.ScalarAsync($"SELECT count() FROM {h.Database}.customers"));
        Assert.Equal(h.Expected(history.FinalCustomers), await h.LiveRowsAsync(ChangeHistory.Customers));
    }

    /// <summary>
    /// A delete without its tombstone and a tombstone without its delete are each what they are (a delete row; a skip);
    /// an envelope without op, or a create without after, is dead-lettered naming the field while its neighbours land.
    /// </summary>
    [Fact]
    public async Task EdgeEvents_LandAsDocumented_MalformedOnesAreDeadLetteredWithTheField()
    {
        using var h = await CdcSink.CreateAsync(fixture, CdcValues.JsonWithoutSchema);
        var row = new SourceRow(1, "Ada", 1, 2, 300, "{}", "2025-01-01T00:00:00Z");
        byte[]?[] values =
        [
            DebeziumJson.Value(new SourceChange("customers", 'c', null, row, false, 1), withSchema: false),
            DebeziumJson.Value(new SourceChange("customers", 'c', null, row with { Id = 2 }, false, 2), withSchema: false),
            DebeziumJson.Value(new SourceChange("customers", 'd', row, null, false, 1, KeyOnlyBefore: true), withSchema: false), // no tombstone follows
            null, // a tombstone of key 3, never deleted (compaction kept it): skipped
            Encoding.UTF8.GetBytes("""{"before":null,"after":{"id":4,"name":"x"},"source":{}}"""),
            Encoding.UTF8.GetBytes("""{"before":null,"after":null,"op":"c"}"""),
        ];
        var records = values.Select((v, i) => new SimRecord("customers", 0, i, 1_735_689_600_000 + i, Encoding.UTF8.GetBytes($"{{\"id\":{(i == 3 ? 3 : i + 1)}}}"), v, [])).ToList();

        var outcome = await h.InvokeAsync(KafkaEventWriter.Write(records));

        Assert.Empty(outcome.Failures);
        Assert.Equal("2\tAda\n", await fixture.Server.QueryAsync($"SELECT id, name FROM {h.Database}.customers FINAL WHERE _is_deleted = 0 FORMAT TSV", TestContext.Current.CancellationToken));
        Assert.Equal("0\t1\t0\n1\t2\t0\n2\t1\t1\n", await fixture.Server.QueryAsync($"SELECT _offset, id, _is_deleted FROM {h.Database}.customers ORDER BY _offset FORMAT TSV", TestContext.Current.CancellationToken));
        var letters = await fixture.Server.QueryAsync($"SELECT offset, error FROM {h.Database}.kafka_dead_letters ORDER BY offset FORMAT TSVRaw", TestContext.Current.CancellationToken);
        var lines = letters.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("4\t", lines[0], StringComparison.Ordinal);
        Assert.Contains("no 'op' field", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("5\t", lines[1], StringComparison.Ordinal);
        Assert.Contains("op 'c' needs the 'after' object, got null", lines[1], StringComparison.Ordinal);
        Assert.Equal(1, h.Metrics.Sum(m => m.TombstonesSkipped));
    }

    /// <summary>
    /// A change ClickHouse rejects (a type the column cannot read) is dead-lettered as the event; after the fix, the
    /// replay function maps it again: the row lands once with its own offset as <c>_version</c> and the change's delete flag.
    /// </summary>
    [Fact]
    public async Task Replay_ADeadLetteredChange_LandsMappedWithItsOffsetAsVersion()
    {
        using var h = await CdcSink.CreateAsync(fixture, CdcValues.JsonWithoutSchema);
        byte[] Change(string after, char op = 'u') => Encoding.UTF8.GetBytes($$"""{"before":{{(op == 'd' ? after : "null")}},"after":{{(op == 'd' ? "null" : after)}},"op":"{{op}}"}""");
        var records = new[]
        {
            Change("""{"id":1,"name":"a","birth":1}""", 'c'),
            Change("""{"id":1,"name":"b","birth":"not-a-number"}"""),
            Change("""{"id":2,"name":"x","birth":"also-not"}""", 'c'),
            Change("""{"id":2,"birth":"again-not"}""", 'd'),
        }.Select((v, i) => new SimRecord("customers", 0, i, 1_735_689_600_000 + i, Encoding.UTF8.GetBytes($"{{\"id\":{(i < 2 ? 1 : 2)}}}"), v, [])).ToList();
        Assert.Empty((await h.InvokeAsync(KafkaEventWriter.Write(records))).Failures);
        Assert.Equal(3, await h.ScalarAsync($"SELECT count() FROM {h.Database}.kafka_dead_letters"));

        await fixture.Server.QueryAsync($"ALTER TABLE {h.Database}.customers MODIFY COLUMN birth String", TestContext.Current.CancellationToken);
        var faults = new FaultInjectingHandler(new SocketsHttpHandler(), _ => Fault.None);
        using var gateway = new MskClickHouse.Core.ClickHouse.DriverClickHouseGateway(h.Options.Connection, faults);
        var replay = await MskClickHouse.Core.Replay.ReplayHandlerFactory.CreateAsync(h.Options, gateway, new Delivery.RecordingLog(), TimeProvider.System, CancellationToken.None);
        var context = new InvocationContext(Guid.NewGuid().ToString(), DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60), "arn:aws:lambda:us-east-1:123456789012:function:replay", null);
        var answer = Encoding.UTF8.GetString(await replay.HandleAsync(context, Encoding.UTF8.GetBytes($$"""{"table":"{{h.Database}}.customers"}"""), CancellationToken.None));

        Assert.Contains("\"replayed\":3", answer, StringComparison.Ordinal);
        Assert.Equal(
            "0\t1\ta\t1\t0\n1\t1\tb\tnot-a-number\t0\n2\t2\tx\talso-not\t0\n3\t2\t\tagain-not\t1\n",
            await fixture.Server.QueryAsync($"SELECT _version, id, name, birth, _is_deleted FROM {h.Database}.customers ORDER BY _version FORMAT TSV", TestContext.Current.CancellationToken));
        Assert.Equal("1\tb\n", await fixture.Server.QueryAsync($"SELECT id, name FROM {h.Database}.customers FINAL WHERE _is_deleted = 0 FORMAT TSV", TestContext.Current.CancellationToken));
    }
}
