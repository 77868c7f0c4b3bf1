using System.Globalization;
using MskClickHouse.RuntimeApiEmulator;
using MskClickHouse.Simulation;
using Emulator = MskClickHouse.RuntimeApiEmulator.RuntimeApiEmulator;

namespace MskClickHouse.LocalRun;

/// <summary>
/// <c>./run.sh --cdc</c> (#26): a small generated Debezium change history (JsonConverter with schemas: snapshot,
/// inserts, updates, deletes with tombstones, a primary-key change, and a truncate of a second table) sent through the
/// bootstrap with CDC_FORMAT=debezium into docs/cdc.md's ReplacingMergeTree tables, the last batch of each partition
/// delivered twice, then
/// the final state under FINAL printed and checked against the source's, and the row count without FINAL (merges
/// stopped) checked against the row-producing changes.
/// </summary>
internal static class CdcDemo
{
    /// <summary>docs/cdc.md's table for the generated source table <paramref name="table"/>.</summary>
    public static string Ddl(string database, string table) =>
        $"CREATE TABLE {database}.{table} (id Int32, name String, birth Date32, updated_at DateTime64(6, 'UTC'), balance Decimal(12, 2), doc String, created DateTime64(6, 'UTC'), " +
        "_version UInt64, _is_deleted UInt8, _topic LowCardinality(String), _partition Int32, _offset Int64) " +
        "ENGINE = ReplacingMergeTree(_version, _is_deleted) ORDER BY id SETTINGS non_replicated_deduplication_window = 10000";

    public static async Task<bool> RunAsync(ClickHouseEngine engine, string database, string bootstrap, LocalRunOptions options, TextWriter output, TextWriter error, CancellationToken ct)
    {
        var history = ChangeHistory.Generate(seed: 26, snapshotRows: 6, changes: 30);
        var logs = ChangeLog.Build(history, options.Partitions, c => DebeziumJson.Value(c, withSchema: true));
        await engine.QueryAsync($"CREATE DATABASE IF NOT EXISTS {database}", ct);
        foreach (var table in new[] { ChangeHistory.Customers, ChangeHistory.Notes })
        {
            await engine.QueryAsync(Ddl(database, table), ct);
            await engine.QueryAsync($"SYSTEM STOP MERGES {database}.{table}", ct); // count() without FINAL: every row inserted
        }

        var perPartition = logs.OrderBy(l => l.Key.Topic, StringComparer.Ordinal).ThenBy(l => l.Key.Partition)
            .Select(l => l.Value.Chunk(options.BatchSize).Select(chunk => KafkaEventWriter.Write(chunk)).ToList())
            .ToList();
        var batches = perPartition.SelectMany(b => b).ToList();
        // What a mapping redelivers: the last batch of a partition, whose success it never saw.
        var redelivered = perPartition.Select(b => b[^1]).ToList();
        var env = FunctionEnvironment.For(engine.Url, engine.User, engine.Password, database, "local-run-cdc");
        env["CDC_FORMAT"] = "debezium";
        env["POWERTOOLS_LOG_LEVEL"] = "Warning";
        await output.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"CDC demo: {history.Changes.Count} Debezium change events ({Count(history, 'r')} snapshot, {Count(history, 'c')} create, {Count(history, 'u')} update, {Count(history, 'd')} delete, {history.Changes.Count(c => c.IsTombstone)} tombstones, {Count(history, 't')} truncate) over {options.Partitions} partitions, {batches.Count} batches, the last of each partition delivered twice"));

        await using (var api = Emulator.Start(new RuntimeApiEmulatorOptions { FunctionTimeout = TimeSpan.FromMinutes(2) }))
        {
            using var function = BootstrapProcess.Start(bootstrap, api.Endpoint, env);
            try
            {
                foreach (var batch in batches.Concat(redelivered))
                {
                    var result = await api.EnqueueAsync(batch, TimeSpan.FromMinutes(2), cancellationToken: ct);
                    if (!result.Success || BatchItemFailures.Parse(result.Body).Count > 0)
                    {
                        throw new LocalRunException($"CDC demo: the function did not deliver a batch: {result.ErrorType} {result.ErrorMessage} {result.BodyText}\n" +
                            string.Join('\n', function.StandardErrorLines.TakeLast(10)));
                    }
                }
            }
            finally
            {
                function.Terminate();
            }

            foreach (var line in function.StandardOutputLines.Where(l => l.Contains("op 't' skipped", StringComparison.Ordinal)).Take(1))
            {
                await error.WriteLineAsync(line);
            }
        }

        var live = $"SELECT id, name, birth, updated_at, balance, doc FROM {database}.{ChangeHistory.Customers} FINAL WHERE _is_deleted = 0 ORDER BY id";
        await output.WriteLineAsync();
        await output.WriteLineAsync($"{live}:");
        await output.WriteAsync(await engine.QueryAsync(live + " FORMAT PrettyCompactMonoBlock", ct));

        var ids = (await engine.QueryAsync($"SELECT groupArray(id) FROM ({live}) FORMAT TSV", ct)).Trim();
        var expectedIds = "[" + string.Join(',', history.FinalCustomers.Keys.Order()) + "]";
        var rows = await ScalarAsync(engine, $"SELECT count() FROM {database}.{ChangeHistory.Customers}", ct);
        var notes = await ScalarAsync(engine, $"SELECT count() FROM {database}.{ChangeHistory.Notes} FINAL WHERE _is_deleted = 0", ct);
        var stateOk = ids == expectedIds;
        var rowsOk = rows == history.RowChanges(ChangeHistory.Customers);
        var notesOk = notes == history.RowChanges(ChangeHistory.Notes);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{(stateOk ? "OK    " : "FAILED ")}customers FINAL WHERE _is_deleted = 0 holds the source's final state: ids {ids} (source {expectedIds})"));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{(rowsOk ? "OK    " : "FAILED ")}count() without FINAL (merges stopped): {rows} rows for {history.RowChanges(ChangeHistory.Customers)} row-producing change events; the second delivery added none"));
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{(notesOk ? "NOTE  " : "FAILED ")}notes: the truncate (op t) was skipped and deleted nothing: {notes} live rows, the source has {history.FinalNotes.Count} (docs/cdc.md)"));
        return stateOk && rowsOk && notesOk;
    }

    private static int Count(ChangeHistory history, char op) => history.Changes.Count(c => c.Op == op && !c.IsTombstone);

    private static async Task<long> ScalarAsync(ClickHouseEngine engine, string sql, CancellationToken ct) =>
        long.Parse((await engine.QueryAsync(sql, ct)).Trim(), CultureInfo.InvariantCulture);
}
