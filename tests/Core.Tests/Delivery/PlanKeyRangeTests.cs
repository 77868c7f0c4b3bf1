using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.Delivery;

/// <summary>The read-backs' key range over plan records (version is not in the state table's sorting key; source is).</summary>
public class PlanKeyRangeTests(ClickHouseFixture fixture)
{
    private static readonly SourceIdentity Source = new("arn:aws:kafka:us-east-1:1:cluster/c/1");

    [Fact]
    public void PlanKeyRange_ClockVersions_AreARangeOfSource_TestClockVersionsAreNot()
    {
        Assert.Equal("AND source > 'arn:aws:kafka:us-east-1:1:cluster/c/1#plan@1764000000000000' ", ClickHouseStateStore.PlanKeyRange(Source, 1_764_000_000_000_000));
        Assert.Equal(string.Empty, ClickHouseStateStore.PlanKeyRange(Source, 4));
        Assert.Equal(string.Empty, ClickHouseStateStore.PlanKeyRange(Source, 0));
    }

    [Fact]
    public async Task PlanKeyRange_TheEngineComparesTheRecordsLaterVersionsAsGreater_AndUsesTheSortingKey()
    {
        var db = await fixture.CreateDatabaseAsync("keyrange", TestContext.Current.CancellationToken);
        var table = new MskClickHouse.Core.ClickHouse.TableName(db, "state");
        await fixture.Server.QueryAsync(ClickHouseStateStore.CreateTableSql(table), TestContext.Current.CancellationToken);
        var prefix = Source.Name + "#plan@";
        var versions = new[] { 1_764_000_000_000_000L, 1_764_000_000_000_001L, 1_764_000_009_999_999L, 1_764_000_010_000_000L, 1_764_086_400_000_000L };
        foreach (var v in versions)
        {
            await fixture.Server.QueryAsync($"INSERT INTO {table.Sql} (sink_id, topic, partition, source, updated_at, version) SELECT 's', 't', 0, '{prefix}{v}.w1', now64(3), {v}", TestContext.Current.CancellationToken);
        }

        var since = versions[1];
        var byRange = await fixture.Server.QueryAsync(
            $"SELECT version FROM {table.Sql} WHERE sink_id = 's' AND topic = 't' AND partition = 0 AND startsWith(source, '{prefix}') {ClickHouseStateStore.PlanKeyRange(Source, since)}ORDER BY version FORMAT TSV", TestContext.Current.CancellationToken);
        // The range keeps the record of version `since` itself too (its source goes on with ".writer"): the read's
        // version filter drops it; the range only has to hold every later one and skip the earlier ones.
        Assert.Equal(versions.Where(v => v >= since).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)), byRange.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var plan = await fixture.Server.QueryAsync(
            $"EXPLAIN indexes = 1 SELECT version FROM {table.Sql} WHERE sink_id = 's' AND topic = 't' AND partition = 0 {ClickHouseStateStore.PlanKeyRange(Source, since)}", TestContext.Current.CancellationToken);
        Assert.Contains("source", plan, StringComparison.Ordinal);
    }
}
