using System.Net;
using MskClickHouse.DevHarness;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Tools.Tests.DevHarness;

/// <summary>The harness's SQL client and demo DDL against the embedded engine.</summary>
public sealed class EngineClientTests(ClickHouseFixture clickHouse)
{
    [Fact]
    public async Task QueryAsync_EngineRefusesTheQuery_ThrowsWithTheStatusTheQueryAndTheEnginesAnswer()
    {
        var ct = TestContext.Current.CancellationToken;
        using var client = new EngineClient(clickHouse.Server.BaseUri, clickHouse.Server.User, clickHouse.Server.Password);

        var e = await Assert.ThrowsAsync<EngineQueryException>(() => client.QueryAsync("SELECT count() FROM no_such_database.no_such_table", ct));

        Assert.NotNull(e.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, e.StatusCode);
        Assert.Contains("'SELECT count() FROM no_such_database.no_such_table'", e.Message, StringComparison.Ordinal);
        Assert.Contains("no_such_database", e.Answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_WrongPassword_IsTheEnginesRefusalNotUnreachable()
    {
        var ct = TestContext.Current.CancellationToken;

        var e = await Assert.ThrowsAsync<EngineQueryException>(() => ClickHouseEngine.ConnectAsync(clickHouse.Server.BaseUri, clickHouse.Server.User, "not-the-password", ct));

        Assert.Contains("'SELECT 1'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetadataDdlTable_HasTheValueColumnsThenTheSixMetadataColumns_AndCountAsyncCountsItsRows()
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await clickHouse.CreateDatabaseAsync("harness", ct);
        var client = clickHouse.Server.Client;
        await client.QueryAsync(MetadataDdl.Table(db, "orders", "id String, amount Float64"), ct);
        await client.QueryAsync(MetadataDdl.Table(db, "orders", "id String, amount Float64", ifNotExists: true), ct);
        await client.QueryAsync($"INSERT INTO {db}.orders (id, amount, _topic, _partition, _offset) VALUES ('a', 1.5, 'orders', 0, 7)", ct);

        var columns = await client.QueryAsync($"SELECT name FROM system.columns WHERE database = '{db}' AND table = 'orders' ORDER BY position FORMAT TSV", ct);

        Assert.Equal("id\namount\n_topic\n_partition\n_offset\n_timestamp\n_key\n_headers\n", columns);
        Assert.Equal(1, await client.CountAsync($"{db}.orders", ct));
    }
}
