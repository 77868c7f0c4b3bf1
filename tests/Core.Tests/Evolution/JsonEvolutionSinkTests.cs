using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Evolution;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Tests.Events;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Evolution;

/// <summary>The real sink over the embedded engine with SCHEMA_EVOLUTION: JSON records with new fields add Nullable columns before the insert.</summary>
public sealed class JsonEvolutionSinkTests(ClickHouseFixture clickHouse)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<string> OrdersDbAsync()
    {
        var db = await clickHouse.CreateDatabaseAsync("evo", Ct);
        await clickHouse.Server.QueryAsync(
            $"CREATE TABLE {db}.orders (id Int64, amount Float64, _topic String, _partition Int32, _offset Int64) " +
            "ENGINE = MergeTree ORDER BY (_topic, _partition, _offset) SETTINGS non_replicated_deduplication_window = 1000",
            Ct);
        return db;
    }

    /// <summary>Offsets from..to of orders-&lt;partition&gt;; a record's value is <paramref name="value"/>(offset).</summary>
    private static string Batch(long from, long to, Func<long, string> value, int partition = 0) => TestEvents.Event(
        ($"orders-{partition}", [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(o => TestEvents.Record("orders", partition, o, TestEvents.JsonValue(value(o))))]));

    private static string MidBatchFields(long o) => o switch
    {
        3 => $$"""{"id":{{o}},"color":"red","weight":1.5}""",
        4 => $$"""{"id":{{o}},"qty":7,"tags":["a",{"b":1}],"color":"blue"}""",
        5 => $$"""{"id":{{o}},"attrs":{"k":[1,2]},"flag":true,"weight":2}""",
        _ => $$"""{"id":{{o}},"amount":1.25}""",
    };

    private Task<string> ColumnsAsync(string db, string table = "orders") =>
        clickHouse.Server.QueryAsync($"SELECT name, type FROM system.columns WHERE database = '{db}' AND table = '{table}' ORDER BY position FORMAT TSVRaw", Ct);

    [Fact]
    public async Task AddColumns_NewStringFloatIntegerArrayObjectAndBoolFieldsMidBatch_LandWithTheirValues_OtherRowsReadNull()
    {
        var db = await OrdersDbAsync();
        using var sink = await EvolvingSink.CreateAsync(EvolvingSink.Options(clickHouse, db, SchemaEvolutionMode.AddColumns, autoCreate: false), Ct);

        Assert.Empty(await sink.InvokeAsync(Batch(0, 7, MidBatchFields)));

        Assert.Equal(
            """
            id	Int64
            amount	Float64
            _topic	String
            _partition	Int32
            _offset	Int64
            color	Nullable(String)
            weight	Nullable(Float64)
            qty	Nullable(Int64)
            tags	Nullable(String)
            attrs	Nullable(String)
            flag	Nullable(Bool)

            """.ReplaceLineEndings("\n"),
            await ColumnsAsync(db));
        Assert.Equal(
            """
            0	\N	\N	\N	\N	\N	\N
            1	\N	\N	\N	\N	\N	\N
            2	\N	\N	\N	\N	\N	\N
            3	red	1.5	\N	\N	\N	\N
            4	blue	\N	7	["a",{"b":1}]	\N	\N
            5	\N	2	\N	\N	{"k":[1,2]}	true
            6	\N	\N	\N	\N	\N	\N
            7	\N	\N	\N	\N	\N	\N

            """.ReplaceLineEndings("\n"),
            await clickHouse.Server.QueryAsync($"SELECT id, color, weight, qty, tags, attrs, flag FROM {db}.orders ORDER BY id FORMAT TSV", Ct));
        Assert.Equal("[1,2]\n", await clickHouse.Server.QueryAsync($"SELECT JSONExtractRaw(attrs, 'k') FROM {db}.orders WHERE id = 5 FORMAT TSV", Ct));
        Assert.Equal(6, sink.Metrics.Sum(SchemaEvolver.ColumnsAddedMetric));
        var lines = sink.Log.Lines.Where(l => l.Fields.Strings?.Any(s => s.Value == SchemaEvolver.ColumnsAddedMetric) == true).ToList();
        Assert.Equal(6, lines.Count);
        var color = Assert.Single(lines, l => l.Fields.Strings!.Contains(new("column", "color")));
        Assert.Equal(("orders", 0, 3L, $"{db}.orders", LogLevel.Information), (color.Fields.Topic, color.Fields.Partition, color.Fields.Offset, color.Fields.Table, color.Level));

        // The next batch with the same fields alters nothing.
        Assert.Empty(await sink.InvokeAsync(Batch(8, 9, MidBatchFields)));
        Assert.Equal(6, sink.Metrics.Sum(SchemaEvolver.ColumnsAddedMetric));
        Assert.Single(sink.Gateway.Statements, s => s.StartsWith("ALTER", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Off_NothingIsAltered_TheFieldIsDroppedAndReportedAsToday()
    {
        var db = await OrdersDbAsync();
        var before = await ColumnsAsync(db);
        using var sink = await EvolvingSink.CreateAsync(EvolvingSink.Options(clickHouse, db, SchemaEvolutionMode.Off, autoCreate: false), Ct);

        Assert.Empty(await sink.InvokeAsync(Batch(0, 7, MidBatchFields)));

        Assert.Equal(before, await ColumnsAsync(db));
        Assert.Equal("8\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.orders", Ct));
        Assert.DoesNotContain(sink.Gateway.Statements, s => s.StartsWith("ALTER", StringComparison.Ordinal));
        Assert.Equal(6, sink.Metrics.Sum("UnknownFields"));
        Assert.Equal(0, sink.Metrics.Sum(SchemaEvolver.ColumnsAddedMetric));
    }

    [Fact]
    public async Task ConflictingValueForAnExistingColumn_IsDeadLettered_AndTheColumnIsNotAltered()
    {
        var db = await OrdersDbAsync();
        var before = await ColumnsAsync(db);
        using var sink = await EvolvingSink.CreateAsync(EvolvingSink.Options(clickHouse, db, SchemaEvolutionMode.AddColumns, autoCreate: false), Ct);

        Assert.Empty(await sink.InvokeAsync(Batch(0, 2, o => o == 1 ? """{"id":"not a number"}""" : $$"""{"id":{{o}}}""")));

        Assert.Equal(before, await ColumnsAsync(db));
        Assert.Equal("0\n2\n", await clickHouse.Server.QueryAsync($"SELECT id FROM {db}.orders ORDER BY id FORMAT TSV", Ct));
        Assert.Equal("1\n", await clickHouse.Server.QueryAsync($"SELECT offset FROM {db}.kafka_dead_letters FORMAT TSV", Ct));
        Assert.DoesNotContain(sink.Gateway.Statements, s => s.StartsWith("ALTER", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NewFieldWhoseLaterValueConflicts_GetsTheFirstValuesType_TheConflictingRecordIsDeadLettered()
    {
        var db = await OrdersDbAsync();
        using var sink = await EvolvingSink.CreateAsync(EvolvingSink.Options(clickHouse, db, SchemaEvolutionMode.AddColumns, autoCreate: false), Ct);

        Assert.Empty(await sink.InvokeAsync(Batch(0, 2, o => o == 2 ? """{"id":2,"qty":{"not":"a number"}}""" : $$"""{"id":{{o}},"qty":{{o + 10}}}""")));

        Assert.Contains("qty\tNullable(Int64)\n", await ColumnsAsync(db), StringComparison.Ordinal);
        Assert.Equal("0\t10\n1\t11\n", await clickHouse.Server.QueryAsync($"SELECT id, qty FROM {db}.orders ORDER BY id FORMAT TSV", Ct));
        Assert.Equal("2\n", await clickHouse.Server.QueryAsync($"SELECT offset FROM {db}.kafka_dead_letters FORMAT TSV", Ct));
    }

    [Fact]
    public async Task RefusedAlter_FailsThePartitionsOfTheTable_NotRetried_WithAnErrorNamingTheGrant()
    {
        var db = await OrdersDbAsync();
        using var sink = await EvolvingSink.CreateAsync(EvolvingSink.Options(clickHouse, db, SchemaEvolutionMode.AddColumns, autoCreate: false), Ct);
        var alters = 0;
        sink.Gateway.OnStatement = sql =>
        {
            if (sql.StartsWith("ALTER", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref alters);

                // The server's answer to a user without the grant (ClickHouse 26.7's text; chDB runs without users).
                throw new ClickHouseException(
                    $"Code: 497. DB::Exception: msk_sink: Not enough privileges. To execute this query, it's necessary to have the grant ALTER ADD COLUMN(color) ON {db}.orders. (ACCESS_DENIED)",
                    ClickHouseErrorKind.Permission,
                    497);
            }
        };

        Assert.Equal(["orders-0"], await sink.InvokeAsync(Batch(0, 3, MidBatchFields)));

        Assert.Equal(1, alters);
        Assert.Equal("0\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.orders", Ct));
        var error = Assert.Single(sink.Log.Lines, l => l.Level == LogLevel.Error);
        Assert.Contains($"GRANT ALTER ADD COLUMN ON `{db}`.`orders`", error.Message, StringComparison.Ordinal);
        Assert.Contains("SCHEMA_EVOLUTION=add-columns", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, Assert.Single(sink.Metrics.Invocations).RefusedPartitions);
    }

    [Fact]
    public async Task TransientFailureOfTheAlter_IsRetriedWithinTheInvocation()
    {
        var db = await OrdersDbAsync();
        using var sink = await EvolvingSink.CreateAsync(EvolvingSink.Options(clickHouse, db, SchemaEvolutionMode.AddColumns, autoCreate: false), Ct);
        var alters = 0;
        sink.Gateway.OnStatement = sql =>
        {
            if (sql.StartsWith("ALTER", StringComparison.Ordinal) && Interlocked.Increment(ref alters) == 1)
            {
                throw new ClickHouseException("Code: 242. DB::Exception: Table is in readonly mode. (TABLE_IS_READ_ONLY)", ClickHouseErrorKind.Transient, 242);
            }
        };

        Assert.Empty(await sink.InvokeAsync(Batch(0, 5, MidBatchFields)));

        Assert.Equal(2, alters);
        Assert.Equal("red\n", await clickHouse.Server.QueryAsync($"SELECT color FROM {db}.orders WHERE id = 3 FORMAT TSV", Ct));
    }

    [Fact]
    public async Task ColumnNotVisibleAfterTheAlter_FailsThePartitionWithinTheInvocationsTime_NamingTheColumn()
    {
        var db = await OrdersDbAsync();
        using var sink = await EvolvingSink.CreateAsync(EvolvingSink.Options(clickHouse, db, SchemaEvolutionMode.AddColumns, autoCreate: false), Ct);

        // The ALTER is acknowledged but never applied where the sink reads and writes.
        sink.Gateway.Swallow = sql => sql.StartsWith("ALTER", StringComparison.Ordinal);

        Assert.Equal(["orders-0"], await sink.InvokeAsync(Batch(0, 3, o => $$"""{"id":{{o}},"color":"red"}"""), TimeSpan.FromSeconds(6)));

        var error = Assert.Single(sink.Log.Lines, l => l.Level == LogLevel.Error);
        Assert.Contains($"column(s) color of {db}.orders are not visible in system.columns", error.Message, StringComparison.Ordinal);
        Assert.Equal("0\n", await clickHouse.Server.QueryAsync($"SELECT count() FROM {db}.orders", Ct));
    }

    [Fact]
    public async Task BatchRetriedAfterTheAlter_LandsOnce()
    {
        var db = await OrdersDbAsync();
        var options = EvolvingSink.Options(clickHouse, db, SchemaEvolutionMode.AddColumns, autoCreate: false);
        using (var first = await EvolvingSink.CreateAsync(options, Ct))
        {
            // The column is added, then the insert fails for good in this invocation (not retried within it).
            first.Gateway.OnInsert = sql =>
            {
                if (sql.Contains("orders", StringComparison.Ordinal))
                {
                    throw new ClickHouseException("Code: 999. injected: the insert's answer is lost", ClickHouseErrorKind.Permanent, 999);
                }
            };
            Assert.Equal(["orders-0"], await first.InvokeAsync(Batch(0, 5, MidBatchFields)));
            Assert.Contains("color\tNullable(String)", await ColumnsAsync(db), StringComparison.Ordinal);
        }

        // Lambda retries the batch (another execution environment), then delivers it once more.
        using var second = await EvolvingSink.CreateAsync(options, Ct);
        Assert.Empty(await second.InvokeAsync(Batch(0, 5, MidBatchFields)));
        Assert.Empty(await second.InvokeAsync(Batch(0, 5, MidBatchFields)));

        Assert.Equal("6\t6\tred\n", await clickHouse.Server.QueryAsync($"SELECT count(), uniqExact(_offset), anyIf(color, id = 3) FROM {db}.orders FORMAT TSV", Ct));
        Assert.Equal(0, second.Metrics.Sum(SchemaEvolver.ColumnsAddedMetric));
        Assert.DoesNotContain(second.Gateway.Statements, s => s.StartsWith("ALTER", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TwoSinksIntroducingTheSameFieldAtOnce_BothSucceed_OneColumn_EachRowOnce()
    {
        var db = await OrdersDbAsync();
        var options = EvolvingSink.Options(clickHouse, db, SchemaEvolutionMode.AddColumns, autoCreate: false);
        using var a = await EvolvingSink.CreateAsync(options, Ct);
        using var b = await EvolvingSink.CreateAsync(options, Ct);

        // Two partitions of the topic, each delivered by its own sink, both introducing "color" and "qty".
        var answers = await Task.WhenAll(
            a.InvokeAsync(Batch(0, 49, o => $$"""{"id":{{o}},"color":"a{{o}}","qty":{{o}}}""", partition: 0)),
            b.InvokeAsync(Batch(0, 49, o => $$"""{"id":{{o + 1000}},"color":"b{{o}}","qty":{{o}}}""", partition: 1)));

        Assert.All(answers, Assert.Empty);
        var columns = await ColumnsAsync(db);
        Assert.Single(columns.Split('\n'), l => l.StartsWith("color\t", StringComparison.Ordinal));
        Assert.Contains("qty\tNullable(Int64)", columns, StringComparison.Ordinal);
        Assert.Equal("100\t100\t100\t100\n", await clickHouse.Server.QueryAsync($"SELECT count(), uniqExact(id), countIf(color != ''), uniqExact((_partition, _offset)) FROM {db}.orders FORMAT TSV", Ct));
    }
}
