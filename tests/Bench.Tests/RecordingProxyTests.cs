using System.Net;
using System.Net.Sockets;
using System.Text;
using MskClickHouse.Bench.EndToEnd;

namespace MskClickHouse.Bench.Tests;

/// <summary>The counting proxy records one exchange per HTTP request on a kept-alive connection, with the request's statement.</summary>
public sealed class RecordingProxyTests
{
    [Fact]
    public async Task Proxy_TwoRequestsOnOneConnection_AreTwoExchangesInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var serving = Task.Run(async () =>
        {
            using var connection = await server.AcceptTcpClientAsync(ct);
            var stream = connection.GetStream();
            var buffer = new byte[65536];
            for (var i = 0; i < 2; i++)
            {
                // Headers, then as many body bytes as Content-Length says.
                var received = new List<byte>();
                int headerEnd;
                while ((headerEnd = Encoding.ASCII.GetString([.. received]).IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
                {
                    var n = await stream.ReadAsync(buffer, ct);
                    received.AddRange(buffer.AsSpan(0, n));
                }

                var headers = Encoding.ASCII.GetString([.. received], 0, headerEnd);
                var length = int.Parse(headers.Split("\r\n").Single(h => h.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))[15..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                while (received.Count < headerEnd + 4 + length)
                {
                    var n = await stream.ReadAsync(buffer, ct);
                    received.AddRange(buffer.AsSpan(0, n));
                }

                await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray(), ct);
            }
        }, ct);

        await using var proxy = new CountingProxy(((IPEndPoint)server.LocalEndpoint).Port);
        using var http = new HttpClient();
        var url = $"http://127.0.0.1:{proxy.Port}/";
        (await http.PostAsync(url + "?query=INSERT%20INTO%20db.events%20FORMAT%20JSONEachRow", new ByteArrayContent("{}"u8.ToArray()), ct)).Dispose();
        (await http.PostAsync(url, new StringContent("SELECT 1"), ct)).Dispose();
        await serving;

        var exchanges = proxy.TakeExchanges();
        Assert.Equal(2, exchanges.Count);
        Assert.Equal("events", RoundTrips.InsertTable(exchanges[0].Head));
        Assert.Null(RoundTrips.InsertTable(exchanges[1].Head));
        Assert.True(exchanges[0].EndMs <= exchanges[1].StartMs, $"{exchanges[0].EndMs} > {exchanges[1].StartMs}");
        Assert.Equal(2, RoundTrips.Of(exchanges).Waves);
        Assert.Empty(proxy.TakeExchanges());
    }
}
