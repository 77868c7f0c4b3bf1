using System.IO.Compression;
using System.Net;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.TestSupport;

namespace MskClickHouse.Core.Tests.ClickHouse;

/// <summary>CLICKHOUSE_COMPRESSION: what goes on the wire, and that the engine takes it.</summary>
public sealed class RequestCompressionTests(ClickHouseFixture clickHouse)
{
    private static readonly byte[][] Body = ["{\"id\":1,\"s\":\"a\"}\n"u8.ToArray(), "{\"id\":2,\"s\":\"b\"}\n"u8.ToArray()];

    [Theory]
    [InlineData("none", null)]
    [InlineData("gzip", "gzip")]
    [InlineData("zstd", "zstd")]
    public async Task Insert_SendsTheBodyWithItsContentEncoding(string compression, string? expectedEncoding)
    {
        var capture = new CapturingHandler();
        using var gateway = new DriverClickHouseGateway(Options("http://127.0.0.1:1", "default", compression).Connection, capture);

        await gateway.InsertAsync("INSERT INTO t FORMAT JSONEachRow", [.. Body.Select(b => (ReadOnlyMemory<byte>)b)], new Dictionary<string, string>(), TestContext.Current.CancellationToken);

        Assert.Equal(expectedEncoding, capture.Encoding);
        var decoded = expectedEncoding switch
        {
            "gzip" => Decode(new GZipStream(new MemoryStream(capture.Body), CompressionMode.Decompress)),
            "zstd" => Decode(new ZstdSharp.DecompressionStream(new MemoryStream(capture.Body))),
            _ => capture.Body,
        };
        Assert.Equal(Body.SelectMany(b => b), decoded);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    public async Task Insert_Compressed_RowsLandInTheEngine(string compression)
    {
        var ct = TestContext.Current.CancellationToken;
        var db = await clickHouse.CreateDatabaseAsync("compress", ct);
        await clickHouse.Server.QueryAsync($"CREATE TABLE {db}.t (id UInt64, s String) ENGINE = MergeTree ORDER BY id", ct);
        using var gateway = new DriverClickHouseGateway(Options(clickHouse.Server.BaseUri.ToString(), db, compression).Connection);

        await gateway.InsertAsync($"INSERT INTO {db}.t FORMAT JSONEachRow", [.. Body.Select(b => (ReadOnlyMemory<byte>)b)], new Dictionary<string, string>(), ct);

        Assert.Equal("2\tab", (await clickHouse.Server.QueryAsync($"SELECT count(), arrayStringConcat(groupArray(s)) FROM (SELECT s FROM {db}.t ORDER BY id)", ct)).Trim());
    }

    private SinkOptions Options(string url, string database, string compression) => SinkOptionsParser.Parse(new Dictionary<string, string?>
    {
        ["CLICKHOUSE_URL"] = url,
        ["CLICKHOUSE_ALLOW_HTTP"] = "true",
        ["CLICKHOUSE_USER"] = clickHouse.Server.User,
        ["CLICKHOUSE_PASSWORD"] = string.IsNullOrEmpty(clickHouse.Server.Password) ? null : clickHouse.Server.Password,
        ["CLICKHOUSE_DATABASE"] = database,
        ["CLICKHOUSE_COMPRESSION"] = compression,
        ["SINK_ID"] = "compression-test",
    });

    private static byte[] Decode(Stream stream)
    {
        using (stream)
        using (var output = new MemoryStream())
        {
            stream.CopyTo(output);
            return output.ToArray();
        }
    }

    private sealed class CapturingHandler : HttpMessageHandler
    {
        public string? Encoding { get; private set; }

        public byte[] Body { get; private set; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Encoding = request.Content?.Headers.ContentEncoding.SingleOrDefault();
            Body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(string.Empty, System.Text.Encoding.UTF8) };
        }
    }
}
