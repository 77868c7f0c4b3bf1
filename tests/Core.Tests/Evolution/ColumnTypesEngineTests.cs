using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Evolution;

/// <summary>What ClickHouse 26.7 does with the JSON values <see cref="Core.Evolution.ColumnTypes"/> maps, sent with JSONEachRow.</summary>
public sealed class ColumnTypesEngineTests(ClickHouseFixture clickHouse)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ArraysAndObjectsSentToANullableStringColumn_LandAsTheirJsonText()
    {
        var db = await clickHouse.CreateDatabaseAsync("types", Ct);
        await clickHouse.Server.QueryAsync($"CREATE TABLE {db}.t (id Int64, v Nullable(String)) ENGINE = MergeTree ORDER BY id", Ct);

        await clickHouse.Server.QueryAsync($$$"""INSERT INTO {{{db}}}.t FORMAT JSONEachRow {"id":1,"v":[1, "a", {"x":2}]} {"id":2,"v":{"k": [1,2], "s":"v"}} {"id":3,"v":[]} {"id":4}""", Ct);

        Assert.Equal(
            "1\t[1, \"a\", {\"x\":2}]\n2\t{\"k\": [1,2], \"s\":\"v\"}\n3\t[]\n4\t\\N\n",
            await clickHouse.Server.QueryAsync($"SELECT id, v FROM {db}.t ORDER BY id FORMAT TSVRaw", Ct));
    }

    [Fact]
    public async Task AFloatSentToAnInt64Column_IsRefused_HenceMixedNumbersMakeFloat64()
    {
        var db = await clickHouse.CreateDatabaseAsync("types", Ct);
        await clickHouse.Server.QueryAsync($"CREATE TABLE {db}.t (id Int64, n Nullable(Int64)) ENGINE = MergeTree ORDER BY id", Ct);

        var e = await Assert.ThrowsAnyAsync<Exception>(() => clickHouse.Server.QueryAsync($$"""INSERT INTO {{db}}.t FORMAT JSONEachRow {"id":1,"n":2.5}""", Ct));

        Assert.Contains("Code: 27.", e.Message, StringComparison.Ordinal);
    }
}
