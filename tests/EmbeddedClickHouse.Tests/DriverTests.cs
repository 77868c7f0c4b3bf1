using ClickHouse.Driver;
using MskClickHouse.TestSupport;

namespace MskClickHouse.EmbeddedClickHouse.Tests;

/// <summary>Shared set-up: a driver client and a database of the test's own.</summary>
public abstract class DriverTests(ClickHouseFixture fixture) : IAsyncLifetime
{
    protected ClickHouseFixture Fixture { get; } = fixture;

    protected ClickHouseClient Client { get; } = new(fixture.ConnectionString);

    protected string Database { get; private set; } = string.Empty;

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => Database = await Fixture.CreateDatabaseAsync(cancellationToken: Cancel);

    public async ValueTask DisposeAsync()
    {
        await Fixture.Server.QueryAsync($"DROP DATABASE IF EXISTS {Database}", Cancel);
        Client.Dispose();
        GC.SuppressFinalize(this);
    }

    protected Task CreateMergeTreeAsync(string table, string columns, string orderBy = "id", string settings = "") =>
        Client.ExecuteNonQueryAsync(
            $"CREATE TABLE {Database}.{table} ({columns}) ENGINE = MergeTree ORDER BY {orderBy} {settings}",
            cancellationToken: Cancel);

    protected async Task<ulong> CountAsync(string table) =>
        Convert.ToUInt64(await Client.ExecuteScalarAsync($"SELECT count() FROM {Database}.{table}", cancellationToken: Cancel), System.Globalization.CultureInfo.InvariantCulture);
}
