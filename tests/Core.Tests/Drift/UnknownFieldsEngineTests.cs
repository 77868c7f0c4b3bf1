using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Drift;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Drift;

/// <summary>
/// The matching rules of <see cref="TableColumns"/> recorded against the engine (ClickHouse 26.7 via chDB): for each
/// probed field, whether the value lands is read back from the table, and the rule must say the same.
/// </summary>
public sealed class UnknownFieldsEngineTests(ClickHouseFixture clickHouse)
{
    private const string Columns =
        "id UInt32, amount UInt32, n Nested(x UInt32, y String), tp Tuple(a UInt32, b String), payload JSON, " +
        "total UInt32 ALIAS id + 1, doubled UInt32 MATERIALIZED id * 2, raw UInt32 EPHEMERAL, from_raw UInt32 DEFAULT raw";

    /// <summary>Row JSON, the probed field, and the query that reads back whether its value landed (1 or 0).</summary>
    public static TheoryData<string, string, string, bool> Probes => new()
    {
        { """{"id":1,"amount":7}""", "amount", "amount = 7", false },
        { """{"id":2,"AMOUNT":7}""", "AMOUNT", "amount = 7", false },
        { """{"id":3,"n.x":[5],"n.y":["a"]}""", "n.x", "n.x = [5]", false },
        { """{"id":4,"n":{"x":[6],"y":["b"]}}""", "n", "n.x = [6]", false },
        { """{"id":5,"n":{"x":[6],"y":["b"]}}""", "n", "n.x = [6]", true },
        { """{"id":6,"tp.a":7}""", "tp.a", "tp.a = 7", false },
        { """{"id":7,"payload":{"k":1}}""", "payload", "payload.k::Int64 = 1", false },
        { """{"id":8,"payload.k":1}""", "payload.k", "payload.k::Nullable(Int64) = 1", false },
        { """{"id":9,"total":100}""", "total", "total = 100", false },
        { """{"id":10,"doubled":100}""", "doubled", "doubled = 100", false },
        { """{"id":11,"raw":5}""", "raw", "from_raw = 5", false },
        { """{"id":12,"color":"red"}""", "color", "0", false },
    };

    [Theory]
    [MemberData(nameof(Probes))]
    public async Task Receives_SaysWhatTheEngineDoes(string row, string field, string landed, bool importNestedJson)
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await clickHouse.CreateDatabaseAsync("drift", ct);
        await clickHouse.Server.QueryAsync($"CREATE TABLE {db}.t ({Columns}) ENGINE = MergeTree ORDER BY id", ct);
        var settings = importNestedJson ? "SETTINGS input_format_import_nested_json = 1 " : string.Empty;
        await clickHouse.Server.QueryAsync($"INSERT INTO {db}.t {settings}FORMAT JSONEachRow {row}", ct);

        var engineSaysLanded = (await clickHouse.Server.QueryAsync($"SELECT toUInt8({landed}) FROM {db}.t FORMAT TSV", ct)).Trim() == "1";
        using var gateway = new DriverClickHouseGateway(new ClickHouseConnection(clickHouse.Server.BaseUri, clickHouse.Server.User, clickHouse.Server.Password, db, null, TimeSpan.FromSeconds(10), RequestCompression.None));
        var columns = await ColumnReader.ReadAsync(gateway, new TableName(db, "t"), ct);

        Assert.Equal(engineSaysLanded, TableColumns.Receives(columns, field, importNestedJson));
    }

    [Fact]
    public async Task ColumnReader_ListsFlattenedNestedColumnsAndDefaultKinds_AndNothingForAMissingTable()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await clickHouse.CreateDatabaseAsync("drift", ct);
        await clickHouse.Server.QueryAsync($"CREATE TABLE {db}.t ({Columns}) ENGINE = MergeTree ORDER BY id", ct);
        using var gateway = new DriverClickHouseGateway(new ClickHouseConnection(clickHouse.Server.BaseUri, clickHouse.Server.User, clickHouse.Server.Password, db, null, TimeSpan.FromSeconds(10), RequestCompression.None));

        var columns = await ColumnReader.ReadAsync(gateway, new TableName(db, "t"), ct);

        Assert.Equal(
            ["id:", "amount:", "n.x:", "n.y:", "tp:", "payload:", "total:ALIAS", "doubled:MATERIALIZED", "raw:EPHEMERAL", "from_raw:DEFAULT"],
            columns.Select(c => c.Name + ":" + c.DefaultKind));
        Assert.Empty(await ColumnReader.ReadAsync(gateway, new TableName(db, "missing"), ct));
    }
}
