using MskClickHouse.Core.ClickHouse;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.ClickHouse;

/// <summary>X-ClickHouse-Summary in the shapes servers, versions and compatible fronts send; it only feeds metrics.</summary>
public class SummaryHeaderTests(ClickHouseFixture fixture)
{
    /// <summary>Shape name → header value (null: no header); the rows and bytes it reports.</summary>
    public static readonly Dictionary<string, (string? Header, long Rows, long Bytes)> Shapes = new()
    {
        ["clickhouse"] = ("{\"read_rows\":\"3\",\"read_bytes\":\"90\",\"written_rows\":\"3\",\"written_bytes\":\"60\",\"total_rows_to_read\":\"0\",\"result_rows\":\"0\",\"result_bytes\":\"0\",\"elapsed_ns\":\"2139100\"}", 3, 60),
        ["ends_with_written_bytes"] = ("{\"read_rows\":\"3\",\"written_rows\":\"3\",\"written_bytes\":\"60\"}", 3, 60),
        ["numbers_as_numbers"] = ("{\"written_bytes\":60,\"written_rows\":3,\"elapsed_ns\":1.5e6}", 3, 60),
        ["keys_absent"] = ("{\"read_rows\":\"3\"}", 0, 0),
        ["empty_object"] = ("{}", 0, 0),
        ["nested_and_nulls"] = ("{\"progress\":{\"written_rows\":\"9\"},\"list\":[1,{\"a\":2}],\"written_rows\":null,\"written_bytes\":\"60\"}", 0, 60),
        ["negative_and_huge"] = ("{\"written_rows\":-5,\"written_bytes\":\"99999999999999999999999\"}", 0, 0),
        ["truncated"] = ("{\"written_rows\":\"3\",\"written_by", 3, 0),
        ["not_json"] = ("written_rows=3", 0, 0),
        ["absent"] = (null, 0, 0),
    };

    public static TheoryData<string> ShapeNames() => new(Shapes.Keys);

    [Theory]
    [MemberData(nameof(ShapeNames))]
    public void Parse_AnyShape_ReadsWhatItCanAndNeverThrows(string shape)
    {
        var (header, rows, bytes) = Shapes[shape];

        Assert.Equal(new InsertResult(rows, bytes), SummaryHeader.Parse(header));
    }

    [Theory]
    [MemberData(nameof(ShapeNames))]
    public async Task Deliver_FrontAnsweringThisSummaryShape_LandsTheBatchOnce(string shape)
    {
        var header = Shapes[shape].Header;
        using var sink = await EngineSink.CreateAsync(
            fixture,
            new Dictionary<string, string> { ["t"] = "CREATE TABLE {0} (id UInt32) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 1000" },
            rewrite: response =>
            {
                response.Headers.Remove(SummaryHeader.Name);
                if (header is not null)
                {
                    response.Headers.TryAddWithoutValidation(SummaryHeader.Name, header);
                }
            });
        var records = EngineSink.Records("t", Enumerable.Range(0, 5).Select(i => $"{{\"id\":{i}}}"));

        Assert.Empty(await sink.InvokeAsync(records));
        Assert.Empty(await sink.InvokeAsync(records));

        Assert.Equal(5, await sink.ScalarAsync($"SELECT count() FROM {sink.Database}.t"));
    }
}
