using System.Collections;
using System.Data.Common;
using ClickHouse.Driver;
using MskClickHouse.TestSupport;

namespace MskClickHouse.EmbeddedClickHouse.Tests;

public sealed class QueryTests(ClickHouseFixture fixture) : DriverTests(fixture)
{
    [Fact]
    public async Task Ping_AnswersTrue()
    {
        Assert.True(await Client.PingAsync(cancellationToken: Cancel));
    }

    [Fact]
    public async Task Ping_OverPlainHttp_AnswersOk()
    {
        using var http = new HttpClient { BaseAddress = Fixture.Server.BaseUri };
        Assert.Equal("Ok.\n", await http.GetStringAsync(new Uri("/ping", UriKind.Relative), Cancel));
    }

    [Fact]
    public async Task Ddl_CreateShowDrop_TableComesAndGoes()
    {
        await CreateMergeTreeAsync("ddl", "id UInt64");
        Assert.Equal("ddl\n", await Fixture.Server.QueryAsync($"SHOW TABLES FROM {Database}", Cancel));

        await Client.ExecuteNonQueryAsync($"DROP TABLE {Database}.ddl", cancellationToken: Cancel);
        Assert.Equal(string.Empty, await Fixture.Server.QueryAsync($"SHOW TABLES FROM {Database}", Cancel));
    }

    [Fact]
    public async Task Select_CommonTypes_ReadBackThroughDriver()
    {
        await using var reader = await Client.ExecuteReaderAsync(
            """
            SELECT
                toInt64(-42) AS i64, toUInt32(7) AS u32, 'héllo' AS s,
                toDateTime64('2024-05-06 07:08:09.123', 3, 'UTC') AS ts,
                CAST(NULL AS Nullable(Int32)) AS missing, CAST(5 AS Nullable(Int32)) AS present,
                [1, 2, 3]::Array(Int32) AS arr, map('a', 1, 'b', 2)::Map(String, UInt8) AS m
            """,
            cancellationToken: Cancel);

        Assert.True(await reader.ReadAsync(Cancel));
        Assert.Equal(-42L, reader.GetFieldValue<long>(0));
        Assert.Equal(7u, reader.GetFieldValue<uint>(1));
        Assert.Equal("héllo", reader.GetString(2));
        Assert.Equal(new DateTime(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Utc), ((DateTime)reader.GetValue(3)).ToUniversalTime());
        Assert.True(reader.IsDBNull(4));
        Assert.Equal(5, reader.GetFieldValue<int>(5));
        Assert.Equal([1, 2, 3], (int[])reader.GetValue(6));
        var map = Assert.IsAssignableFrom<IDictionary>(reader.GetValue(7));
        Assert.Equal(2, map.Count);
        Assert.False(await reader.ReadAsync(Cancel));
    }

    [Fact]
    public async Task QueryParameters_BindIntoPlaceholders()
    {
        var parameters = new ClickHouse.Driver.ADO.Parameters.ClickHouseParameterCollection
        {
            new ClickHouse.Driver.ADO.Parameters.ClickHouseDbParameter { ParameterName = "n", ClickHouseType = "Int32", Value = 41 },
        };
        var value = await Client.ExecuteScalarAsync("SELECT {n:Int32} + 1", parameters, cancellationToken: Cancel);
        Assert.Equal(42, Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task UnknownTable_SurfacesCode60()
    {
        var ex = await Assert.ThrowsAsync<ClickHouseServerException>(
            () => Client.ExecuteScalarAsync($"SELECT * FROM {Database}.nowhere", cancellationToken: Cancel));
        Assert.Equal(60, ex.ErrorCode);
        Assert.StartsWith("Code: 60. DB::Exception:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SyntaxError_SurfacesCode62()
    {
        var ex = await Assert.ThrowsAsync<ClickHouseServerException>(
            () => Client.ExecuteScalarAsync("SELEC 1", cancellationToken: Cancel));
        Assert.Equal(62, ex.ErrorCode);
    }

    [Fact]
    public async Task WrongPassword_IsRefusedWith516()
    {
        using var intruder = new ClickHouseClient(Fixture.ConnectionString.Replace("Password=", "Password=wrong", StringComparison.Ordinal));
        var ex = await Assert.ThrowsAnyAsync<DbException>(() => intruder.ExecuteScalarAsync("SELECT 1", cancellationToken: Cancel));
        Assert.Equal(516, ex.ErrorCode);
    }

    [Fact]
    public async Task WrongPassword_AnswersHttp403()
    {
        using var http = new HttpClient { BaseAddress = Fixture.Server.BaseUri };
        using var response = await http.GetAsync(new Uri("/?query=SELECT+1&user=default&password=wrong", UriKind.Relative), Cancel);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("516", Assert.Single(response.Headers.GetValues("X-ClickHouse-Exception-Code")));
    }

    [Fact]
    public async Task PerRequestSetting_DoesNotLeakIntoNextRequest()
    {
        const string Probe = "SELECT value FROM system.settings WHERE name = 'max_result_rows'";
        var before = await Client.ExecuteScalarAsync(Probe, cancellationToken: Cancel);
        var scoped = await Client.ExecuteScalarAsync(
            Probe, options: new QueryOptions { CustomSettings = new Dictionary<string, object> { ["max_result_rows"] = 1234 } }, cancellationToken: Cancel);
        var after = await Client.ExecuteScalarAsync(Probe, cancellationToken: Cancel);

        Assert.Equal("1234", scoped);
        Assert.Equal(before, after);
        Assert.NotEqual("1234", after);
    }

    [Fact]
    public async Task DatabaseOption_AppliesToThatRequestOnly()
    {
        var current = await Client.ExecuteScalarAsync(
            "SELECT currentDatabase()", options: new QueryOptions { Database = Database }, cancellationToken: Cancel);
        var next = await Client.ExecuteScalarAsync("SELECT currentDatabase()", cancellationToken: Cancel);

        Assert.Equal(Database, current);
        Assert.Equal("default", next);
    }
}
