using System.Collections.Frozen;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Evolution;
using MskClickHouse.Core.Tests.Events;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Evolution;

/// <summary>The real sink over the embedded engine with AUTO_CREATE_TABLES=true: a missing routed table is created from the batch's JSON fields.</summary>
public sealed class TableCreationSinkTests(ClickHouseFixture clickHouse)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Batch(string topic, int partition, long from, long to, Func<long, string> value) => TestEvents.Event(
        ($"{topic}-{partition}", [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(o => TestEvents.Record(topic, partition, o, TestEvents.JsonValue(value(o)), key: TestEvents.JsonValue($"k{o}")))]));

    private Task<string> ColumnsAsync(string db, string table) =>
        clickHouse.Server.QueryAsync($"SELECT name, type FROM system.columns WHERE database = '{db}' AND table = '{table}' ORDER BY position FORMAT TSVRaw", Ct);

    [Fact]
    public async Task MissingTable_IsCreatedFromTheFirstBatchsFields_WithTheMetadataColumnsAndADeduplicationWindow_RedeliveryAddsNothing()
    {
        var db = await clickHouse.CreateDatabaseAsync("create", Ct);
        using var sink = await EvolvingSink.CreateAsync(EvolvingSink.Options(clickHouse, db, SchemaEvolutionMode.Off, autoCreate: true), Ct);
        var batch = Batch("clicks", 0, 0, 3, o => $$"""{"id":{{o}},"page":"/p{{o}}","ms":{{o}}.5,"ok":true,"tags":["x"],"note":null}""");

        Assert.Empty(await sink.InvokeAsync(batch));

        Assert.Equal(
            """
            _topic	LowCardinality(String)
            _partition	Int32
            _offset	Int64
            _timestamp	DateTime64(3, 'UTC')
            _timestamp_type	LowCardinality(String)
            _key	Nullable(String)
            _headers	Map(String, String)
            _source	LowCardinality(String)
            id	Nullable(Int64)
            page	Nullable(String)
            ms	Nullable(Float64)
            ok	Nullable(Bool)
            tags	Nullable(String)

            """.ReplaceLineEndings("\n"),
            await ColumnsAsync(db, "clicks"));
        var create = await clickHouse.Server.QueryAsync($"SELECT engine, sorting_key, create_table_query LIKE '%non_replicated_deduplication_window = 10000%' FROM system.tables WHERE database = '{db}' AND name = 'clicks' FORMAT TSV", Ct);
        Assert.Equal("MergeTree\t_topic, _partition, _offset\t1\n", create);
        Assert.Equal(
            "clicks\t0\t0\tk0\t0\t/p0\t0.5\ttrue\t[\"x\"]\nclicks\t0\t3\tk3\t3\t/p3\t3.5\ttrue\t[\"x\"]\n",
            await clickHouse.Server.QueryAsync($"SELECT _topic, _partition, _offset, _key, id, page, ms, ok, tags FROM {db}.clicks WHERE _offset IN (0, 3) ORDER BY _offset FORMAT TSV", Ct));
        Assert.Equal(1, sink.Metrics.Sum(SchemaEvolver.TablesCreatedMetric));
        Assert.Single(sink.Log.Lines, l => l.Fields.Strings?.Contains(new("metric", SchemaEvolver.TablesCreatedMetric)) == true);

        // Redelivered (Lambda retries the batch): nothing created or altered, every row once.
        Assert.Empty(await sink.InvokeAsync(batch));
        Assert.Single(sink.Gateway.Statements, s => s.StartsWith("CREATE TABLE IF NOT EXISTS `" + db + "`.`clicks`", StringComparison.Ordinal));
        Assert.DoesNotContain(sink.Gateway.Statements, s => s.StartsWith("ALTER", StringComparison.Ordinal));
        Assert.Equal(1, sink.Metrics.Sum(SchemaEvolver.TablesCreatedMetric));
        Assert.Equal("4\t4\n", await clickHouse.Server.QueryAsync($"SELECT count(), uniqExact(_offset) FROM {db}.clicks FORMAT TSV", Ct));
    }

    [Fact]
    public async Task Off_AMissingTableStillFailsThePartition()
    {
        var db = await clickHouse.CreateDatabaseAsync("create", Ct);
        using var sink = await EvolvingSink.CreateAsync(EvolvingSink.Options(clickHouse, db, SchemaEvolutionMode.AddColumns, autoCreate: false), Ct);

        Assert.Equal(["clicks-0"], await sink.InvokeAsync(Batch("clicks", 0, 0, 0, _ => """{"id":1}""")));

        Assert.Equal(string.Empty, await clickHouse.Server.QueryAsync($"SELECT name FROM system.tables WHERE database = '{db}' AND name = 'clicks' FORMAT TSV", Ct));
    }

    [Fact]
    public async Task TwoSinksCreatingTheSameTableAtOnceFromDifferentFields_BothSucceed_TheTableHasTheFieldsOfBoth()
    {
        var db = await clickHouse.CreateDatabaseAsync("create", Ct);
        var options = EvolvingSink.Options(clickHouse, db, SchemaEvolutionMode.Off, autoCreate: true) with
        {
            TopicTables = new Dictionary<string, TableName> { ["a"] = new(db, "shared"), ["b"] = new(db, "shared") }.ToFrozenDictionary(),
        };
        using var a = await EvolvingSink.CreateAsync(options, Ct);
        using var b = await EvolvingSink.CreateAsync(options, Ct);

        var answers = await Task.WhenAll(
            a.InvokeAsync(Batch("a", 0, 0, 19, o => $$"""{"id":{{o}},"from_a":"a{{o}}"}""")),
            b.InvokeAsync(Batch("b", 0, 0, 19, o => $$"""{"id":{{o}},"from_b":{{o}}}""")));

        Assert.All(answers, Assert.Empty);
        var columns = await ColumnsAsync(db, "shared");
        Assert.Contains("from_a\tNullable(String)", columns, StringComparison.Ordinal);
        Assert.Contains("from_b\tNullable(Int64)", columns, StringComparison.Ordinal);
        Assert.Equal("40\t20\t20\n", await clickHouse.Server.QueryAsync($"SELECT count(), countIf(from_a IS NOT NULL), countIf(from_b IS NOT NULL) FROM {db}.shared FORMAT TSV", Ct));
    }

    [Fact]
    public async Task RefusedCreate_FailsThePartition_WithAnErrorNamingTheGrant()
    {
        var db = await clickHouse.CreateDatabaseAsync("create", Ct);
        using var sink = await EvolvingSink.CreateAsync(EvolvingSink.Options(clickHouse, db, SchemaEvolutionMode.Off, autoCreate: true), Ct);
        sink.Gateway.OnStatement = sql =>
        {
            if (sql.StartsWith("CREATE TABLE IF NOT EXISTS `" + db + "`.`clicks`", StringComparison.Ordinal))
            {
                throw new ClickHouseException(
                    $"Code: 497. DB::Exception: msk_sink: Not enough privileges. To execute this query, it's necessary to have the grant CREATE TABLE ON {db}.clicks. (ACCESS_DENIED)",
                    ClickHouseErrorKind.Permission,
                    497);
            }
        };

        Assert.Equal(["clicks-0"], await sink.InvokeAsync(Batch("clicks", 0, 0, 0, _ => """{"id":1}""")));

        var error = Assert.Single(sink.Log.Lines, l => l.Level == Core.Logging.LogLevel.Error);
        Assert.Contains($"GRANT CREATE TABLE ON `{db}`.`clicks`", error.Message, StringComparison.Ordinal);
        Assert.Contains("AUTO_CREATE_TABLES=true", error.Message, StringComparison.Ordinal);
    }
}
