using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.ClickHouse;

/// <summary>
/// The target-table DDL the README tells a user to run is accepted by the engine and gives the table the sink's
/// catalog needs for exact retries: the offset columns, the sort key the audit reads, a deduplication window.
/// </summary>
public class ReadmeTargetTableTests(ClickHouseFixture fixture)
{
    [Fact]
    public async Task ReadmeDdl_CreatesADeduplicatingTableWithTheOffsetColumnsAsItsSortKey()
    {
        var ct = TestContext.Current.CancellationToken;
        var ddl = ReadmeCreateTable();
        Assert.Contains("CREATE TABLE analytics.orders", ddl, StringComparison.Ordinal);
        var db = await fixture.CreateDatabaseAsync("readme", ct);

        await fixture.Server.QueryAsync(ddl.Replace("analytics.", db + ".", StringComparison.Ordinal).TrimEnd().TrimEnd(';'), ct);

        using var gateway = new DriverClickHouseGateway(new SinkOptions
        {
            ClickHouseUrl = fixture.Server.BaseUri,
            User = fixture.Server.User,
            Password = fixture.Server.Password,
            DeadLetterTable = new TableName(db, "dlq"),
            StateTable = new TableName(db, "state"),
            SinkId = "readme",
        }.Connection);
        var info = await new TableCatalog(gateway).GetAsync(new TableName(db, "orders"), ct);
        Assert.True(info.Exists);
        Assert.Subset(info.Columns.ToHashSet(), new HashSet<string> { "_topic", "_partition", "_offset", "_timestamp" });
        Assert.True(info.CanDeduplicate, $"{info.Engine} with window {info.DeduplicationWindow} drops no retried insert");
        Assert.Null(DeduplicationWindowCheck.Assess(info, partitions: 6));
        var sortingKey = await fixture.Server.QueryAsync($"SELECT sorting_key FROM system.tables WHERE database = '{db}' AND name = 'orders'", ct);
        Assert.Equal("_topic, _partition, _offset", sortingKey.Trim());
    }

    /// <summary>The README's first sql code block that creates a table.</summary>
    private static string ReadmeCreateTable()
    {
        var text = File.ReadAllText(RepoFile("README.md")).Replace("\r\n", "\n", StringComparison.Ordinal);
        foreach (var block in text.Split("```sql\n").Skip(1))
        {
            var sql = block[..block.IndexOf("```", StringComparison.Ordinal)];
            if (sql.Contains("CREATE TABLE", StringComparison.Ordinal))
            {
                return sql;
            }
        }

        throw new InvalidOperationException("README.md has no ```sql block with CREATE TABLE");
    }

    private static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.sln")))
            {
                return Path.Combine(dir.FullName, relative);
            }
        }

        throw new InvalidOperationException($"no Serverless.sln above {AppContext.BaseDirectory}");
    }
}
