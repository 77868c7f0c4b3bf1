using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace MskClickHouse.Bench.EndToEnd;

/// <summary>
/// A TCP forwarder on 127.0.0.1 that counts the bytes the client sends (the NAT-billed direction for inserts) and records
/// each HTTP exchange: HTTP/1.1 without pipelining alternates request and response on a connection, so client bytes
/// after server bytes start a new request, and the last server bytes before them end its response.
/// </summary>
internal sealed class CountingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private long _clientToServer;
    private long _serverToClient;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<HttpExchange> _exchanges = [];

    public CountingProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _accept = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public long ClientToServerBytes => Interlocked.Read(ref _clientToServer);

    public long ServerToClientBytes => Interlocked.Read(ref _serverToClient);

    /// <summary>The exchanges started since the last call (their ends may still move while a response is being read).</summary>
    public List<HttpExchange> TakeExchanges()
    {
        lock (_exchanges)
        {
            var taken = _exchanges.ToList();
            _exchanges.Clear();
            return taken;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accept;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = Task.Run(() => ForwardAsync(client));
        }
    }

    private async Task ForwardAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                client.NoDelay = true;
                server.NoDelay = true;
                await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
                var connection = new Connection();
                var up = PumpAsync(client.GetStream(), server.GetStream(), true, connection);
                var down = PumpAsync(server.GetStream(), client.GetStream(), false, connection);
                await Task.WhenAny(up, down);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool upstream, Connection connection)
    {
        var buffer = new byte[81920];
        int n;
        while ((n = await from.ReadAsync(buffer, _stop.Token)) > 0)
        {
            Interlocked.Add(ref upstream ? ref _clientToServer : ref _serverToClient, n);
            Observe(connection, upstream, buffer.AsSpan(0, n));
            await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
        }
    }

    private void Observe(Connection connection, bool upstream, ReadOnlySpan<byte> bytes)
    {
        var now = _clock.Elapsed.TotalMilliseconds;
        lock (connection)
        {
            if (upstream)
            {
                if (connection.Current is null || connection.Answered)
                {
                    var exchange = new HttpExchange(now);
                    connection.Current = exchange;
                    connection.Answered = false;
                    lock (_exchanges)
                    {
                        _exchanges.Add(exchange);
                    }
                }

                connection.Current.Keep(bytes);
            }
            else if (connection.Current is { } current)
            {
                current.EndMs = now;

                // An interim "100 Continue" is not the answer: the request's body follows it.
                connection.Answered |= !bytes.StartsWith("HTTP/1.1 100 "u8);
            }
        }
    }

    private sealed class Connection
    {
        public HttpExchange? Current { get; set; }

        public bool Answered { get; set; }
    }
}
