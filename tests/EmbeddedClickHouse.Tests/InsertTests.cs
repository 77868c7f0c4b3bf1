using System.Globalization;
using System.Text;
using System.Text.Json;
using ClickHouse.Driver;
using MskClickHouse.TestSupport;

namespace MskClickHouse.EmbeddedClickHouse.Tests;

public sealed class InsertTests(ClickHouseFixture fixture) : DriverTests(fixture)
{
    private const string EventColumns = "id UInt64, name String, at DateTime64(3, 'UTC')";

    [Fact]
    public async Task InsertBinary_RowsLandWithTheirValues()
    {
        await CreateMergeTreeAsync("events", EventColumns);
        var at = new DateTime(2024, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc);
        object[][] rows = [[1UL, "one", at], [2UL, "two", at.AddSeconds(1)]];

        var written = await Client.InsertBinaryAsync($"{Database}.events", ["id", "name", "at"], rows, cancellationToken: Cancel);

        Assert.Equal(2, written);
        Assert.Equal(
            "1\tone\t2024-01-02 03:04:05.678\n2\ttwo\t2024-01-02 03:04:06.678\n",
            await Fixture.Server.QueryAsync($"SELECT id, name, at FROM {Database}.events ORDER BY id", Cancel));
    }

    [Fact]
    public async Task InsertRawStream_JsonEachRow_RowsLand()
    {
        await CreateMergeTreeAsync("events", EventColumns);

        using var response = await InsertJsonAsync("events", Rows(1, 3), useCompression: false);

        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal(3UL, await CountAsync("events"));
    }

    [Fact]
    public async Task InsertRawStream_Gzip_RowsLand()
    {
        await CreateMergeTreeAsync("events", EventColumns);

        using var response = await InsertJsonAsync("events", Rows(1, 5), useCompression: true);

        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal(5UL, await CountAsync("events"));
    }

    [Fact]
    public async Task InsertRawStream_CustomSetting_AppliesToThatInsertOnly()
    {
        await CreateMergeTreeAsync("events", EventColumns);
        const string WithUnknownField = "{\"id\":1,\"name\":\"a\",\"at\":\"2024-01-01 00:00:00\",\"extra\":1}\n";
        var strict = new Dictionary<string, object> { ["input_format_skip_unknown_fields"] = 0 };

        var ex = await Assert.ThrowsAsync<ClickHouseServerException>(
            () => InsertJsonAsync("events", WithUnknownField, useCompression: false, strict));
        using var lenient = await InsertJsonAsync("events", WithUnknownField, useCompression: false);

        Assert.Equal(117, ex.ErrorCode);
        Assert.True(lenient.IsSuccessStatusCode);
        Assert.Equal(1UL, await CountAsync("events"));
    }

    [Fact]
    public async Task Insert_Summary_ReportsWrittenRows()
    {
        await CreateMergeTreeAsync("events", EventColumns);

        using var response = await InsertJsonAsync("events", Rows(1, 7), useCompression: false);

        Assert.Equal(7, WrittenRows(response));
    }

    [Fact]
    public async Task Insert_SameDeduplicationToken_LandsOnce()
    {
        await CreateMergeTreeAsync("events", EventColumns, settings: "SETTINGS non_replicated_deduplication_window = 100");
        var settings = DeduplicationSettings("batch-1");

        using var first = await InsertJsonAsync("events", Rows(1, 4), useCompression: false, settings);
        using var second = await InsertJsonAsync("events", Rows(1, 4), useCompression: false, settings);

        Assert.Equal(4UL, await CountAsync("events"));
        Assert.Equal(4, WrittenRows(first));
        // Observed with chDB 26.7: the deduplicated insert still reports the rows it received
        // (written_rows counts what went through the insert pipeline, as on a real server, which
        // has no per-response signal for deduplication either). Callers must not read 0 as "deduplicated".
        Assert.Equal(4, WrittenRows(second));
    }

    [Fact]
    public async Task Insert_DifferentDeduplicationTokens_LandTwice()
    {
        await CreateMergeTreeAsync("events", EventColumns, settings: "SETTINGS non_replicated_deduplication_window = 100");

        using var first = await InsertJsonAsync("events", Rows(1, 4), useCompression: false, DeduplicationSettings("batch-1"));
        using var second = await InsertJsonAsync("events", Rows(1, 4), useCompression: false, DeduplicationSettings("batch-2"));

        Assert.Equal(8UL, await CountAsync("events"));
    }

    [Fact]
    public async Task Insert_FromInfileWithFormat_ReadsTheFileNotTheBody()
    {
        await CreateMergeTreeAsync("events", EventColumns);
        var file = Path.Combine(Path.GetTempPath(), ClickHouseFixture.UniqueName("rows") + ".json");
        await File.WriteAllTextAsync(file, Rows(1, 6), Cancel);
        try
        {
            await Fixture.Server.QueryAsync($"INSERT INTO {Database}.events FROM INFILE '{file}' FORMAT JSONEachRow", Cancel);
        }
        finally
        {
            File.Delete(file);
        }

        Assert.Equal(6UL, await CountAsync("events"));
    }

    private static Dictionary<string, object> DeduplicationSettings(string token) =>
        new() { ["insert_deduplication_token"] = token, ["async_insert"] = 0 };

    private static string Rows(int from, int count) =>
        string.Concat(Enumerable.Range(from, count).Select(i =>
            JsonSerializer.Serialize(new { id = i, name = $"row-{i}", at = "2024-01-01 00:00:00.000" }) + "\n"));

    private static long WrittenRows(HttpResponseMessage response)
    {
        using var summary = JsonDocument.Parse(response.Headers.GetValues("X-ClickHouse-Summary").Single());
        return long.Parse(summary.RootElement.GetProperty("written_rows").GetString()!, CultureInfo.InvariantCulture);
    }

    private async Task<HttpResponseMessage> InsertJsonAsync(
        string table, string jsonLines, bool useCompression, Dictionary<string, object>? settings = null)
    {
        using var body = new MemoryStream(Encoding.UTF8.GetBytes(jsonLines));
        return await Client.InsertRawStreamAsync(
            $"{Database}.{table}", body, "JSONEachRow", ["id", "name", "at"], useCompression,
            new QueryOptions { CustomSettings = settings ?? [] }, Cancel);
    }
}
