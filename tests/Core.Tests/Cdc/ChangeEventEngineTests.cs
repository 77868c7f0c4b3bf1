using System.Text;
using MskClickHouse.Core.Cdc;
using MskClickHouse.Simulation;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Cdc;

/// <summary>
/// What the embedded engine (ClickHouse 26.7) does with change rows, recorded: the facts docs/cdc.md and the CDC
/// insert settings rest on.
/// </summary>
public sealed class ChangeEventEngineTests(ClickHouseFixture fixture)
{
    private const string Columns = "id Int32, name String, _version UInt64, _is_deleted UInt8";

    private async Task<string> TableAsync(string columns = Columns)
    {
        var db = await fixture.CreateDatabaseAsync("cdc", TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync($"CREATE TABLE {db}.t ({columns}) ENGINE = ReplacingMergeTree(_version, _is_deleted) ORDER BY id", TestContext.Current.CancellationToken);
        return db;
    }

    private static string Rows(params (int Id, string Name, int Version, int Deleted)[] rows) =>
        string.Join('\n', rows.Select(r => $$"""{"id":{{r.Id}},"name":"{{r.Name}}","_version":{{r.Version}},"_is_deleted":{{r.Deleted}}}"""));

    [Theory]
    [InlineData(1, 1)] // the default: three changes of one key in one block leave one row at insert time
    [InlineData(0, 3)] // what CDC inserts pin: every change is a row until a merge
    public async Task Insert_ChangesOfOneKeyInOneBlock_AreFoldedAtInsertOnlyWithOptimizeOnInsert(int optimizeOnInsert, long rows)
    {
        var db = await TableAsync();

        await fixture.Server.QueryAsync(
            $"INSERT INTO {db}.t SETTINGS optimize_on_insert = {optimizeOnInsert} FORMAT JSONEachRow\n" + Rows((1, "a", 10, 0), (1, "b", 11, 0), (1, "c", 12, 0)),
            TestContext.Current.CancellationToken);

        Assert.Equal($"{rows}\n", await fixture.Server.QueryAsync($"SELECT count() FROM {db}.t", TestContext.Current.CancellationToken));
        Assert.Equal("c", (await fixture.Server.QueryAsync($"SELECT name FROM {db}.t FINAL", TestContext.Current.CancellationToken)).Trim());
    }

    [Fact]
    public async Task OptimizeFinal_KeepsTheNewestVersionAndTheDeleteRow_FinalHidesTheDeleted()
    {
        var db = await TableAsync();
        await fixture.Server.QueryAsync($"INSERT INTO {db}.t SETTINGS optimize_on_insert = 0 FORMAT JSONEachRow\n" + Rows((1, "a", 1, 0), (2, "x", 2, 0), (1, "b", 3, 0)), TestContext.Current.CancellationToken);
        await fixture.Server.QueryAsync($"INSERT INTO {db}.t SETTINGS optimize_on_insert = 0 FORMAT JSONEachRow\n" + Rows((2, "", 4, 1)), TestContext.Current.CancellationToken);

        await fixture.Server.QueryAsync($"OPTIMIZE TABLE {db}.t FINAL", TestContext.Current.CancellationToken);

        // A merge keeps one row per key, the delete included (only OPTIMIZE … FINAL CLEANUP drops it): versions 1 and 2 are gone.
        Assert.Equal("1\tb\t3\t0\n2\t\t4\t1\n", await fixture.Server.QueryAsync($"SELECT id, name, _version, _is_deleted FROM {db}.t ORDER BY id", TestContext.Current.CancellationToken));
        Assert.Equal("1\tb\n", await fixture.Server.QueryAsync($"SELECT id, name FROM {db}.t FINAL WHERE _is_deleted = 0 ORDER BY id", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task MappedRow_LogicalTypes_LandAsTypedValues()
    {
        var db = await TableAsync(
            "id Int32, name String, birth Date32, updated_at DateTime64(6, 'UTC'), balance Decimal(12, 2), doc String, doc_json JSON, created DateTime64(6, 'UTC'), " +
            "_version UInt64, _is_deleted UInt8");
        var row = new SourceRow(1, "Zoë", -25_000, 1_704_067_200_000_001, -12345, """{"tier":"gold","visits":3}""", "2024-01-01T02:00:00.5+02:00");
        var value = Encoding.UTF8.GetString(DebeziumJson.Value(new SourceChange("customers", 'c', null, row, false, 1), withSchema: true)!)
            .Replace("\"field\":\"created\"}", "\"field\":\"created\"},{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Json\",\"field\":\"doc_json\"}", StringComparison.Ordinal)
            .Replace("\"created\":\"2024-01-01T02:00:00.5+02:00\"}", "\"created\":\"2024-01-01T02:00:00.5+02:00\",\"doc_json\":\"{\\\"a\\\":{\\\"b\\\":[1,2]}}\"}", StringComparison.Ordinal);

        var result = DebeziumEnvelope.Map(Encoding.UTF8.GetBytes(value), 5, null, out var mapped);
        Assert.Equal(ChangeEventKind.Row, result.Kind);
        await fixture.Server.QueryAsync($"INSERT INTO {db}.t SETTINGS date_time_input_format = 'best_effort' FORMAT JSONEachRow\n" + Encoding.UTF8.GetString(mapped), TestContext.Current.CancellationToken);

        Assert.Equal(
            "1\tZoë\t1901-07-22\t2024-01-01 00:00:00.000001\t-123.45\t{\"tier\":\"gold\",\"visits\":3}\t{\"a\":{\"b\":[1,2]}}\t2024-01-01 00:00:00.500000\t5\t0\n",
            await fixture.Server.QueryAsync($"SELECT id, name, birth, updated_at, balance, doc, toJSONString(doc_json), created, _version, _is_deleted FROM {db}.t", TestContext.Current.CancellationToken));
    }
}
