using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace MskClickHouse.RuntimeApiEmulator;

/// <summary>
/// The Lambda Runtime API (2018-06-01) served on 127.0.0.1 for a real bootstrap process or an in-process client:
/// GET /runtime/invocation/next (long poll), POST /runtime/invocation/{id}/response and /error, POST /runtime/init/error.
/// Start it, point AWS_LAMBDA_RUNTIME_API at <see cref="Endpoint"/>, and <see cref="EnqueueAsync"/> events.
/// </summary>
public sealed class RuntimeApiEmulator : IAsyncDisposable
{
    private const string Prefix = "/2018-06-01/runtime/";
    private static readonly byte[] Accepted = """{"status":"OK"}"""u8.ToArray();

    private readonly RuntimeApiEmulatorOptions _options;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();
    private readonly ConcurrentDictionary<string, Pending> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly TaskCompletionSource<InitErrorReport> _initError = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<DateTimeOffset> _firstNext = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _accepting;
    private int _nextRequests;

    private RuntimeApiEmulator(RuntimeApiEmulatorOptions options)
    {
        _options = options;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptLoopAsync();
    }

    /// <summary>Starts listening on 127.0.0.1 on a free port.</summary>
    public static RuntimeApiEmulator Start(RuntimeApiEmulatorOptions? options = null) => new(options ?? new RuntimeApiEmulatorOptions());

    public int Port { get; }

    /// <summary>host:port, the value for AWS_LAMBDA_RUNTIME_API.</summary>
    public string Endpoint => $"127.0.0.1:{Port}";

    public RuntimeApiEmulatorOptions Options => _options;

    /// <summary>Completes when the runtime posts /runtime/init/error.</summary>
    public Task<InitErrorReport> InitError => _initError.Task;

    /// <summary>Completes when the runtime first asks for an invocation (init is over).</summary>
    public Task<DateTimeOffset> FirstNextRequest => _firstNext.Task;

    /// <summary>How many GET /next requests arrived.</summary>
    public int NextRequestCount => Volatile.Read(ref _nextRequests);

    /// <summary>
    /// Queues one event and waits for the runtime's answer. Throws <see cref="TimeoutException"/> when there is none
    /// within <paramref name="timeout"/> (measured from now, including time waiting for the runtime to ask).
    /// </summary>
    public async Task<InvocationResult> EnqueueAsync(byte[] eventJson, TimeSpan timeout, string? traceId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventJson);
        var pending = new Pending(
            Guid.NewGuid().ToString(),
            eventJson,
            traceId ?? $"Root=1-{_options.Time.GetUtcNow().ToUnixTimeSeconds():x8}-{Guid.NewGuid().ToString("N")[..24]};Parent=53995c3f42cd8ad8;Sampled=1",
            _options.Time.GetUtcNow());
        _inFlight[pending.RequestId] = pending;
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        try
        {
            return await pending.Result.Task.WaitAsync(timeout, _options.Time, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"no answer to invocation {pending.RequestId} within {timeout.TotalSeconds:0.###} s (served by /next: {pending.NextServedAt is not null})");
        }
        finally
        {
            _inFlight.TryRemove(pending.RequestId, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        _queue.Writer.TryComplete();
        try
        {
            await _accepting;
            await Task.WhenAll(_connections).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or TimeoutException or IOException)
        {
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _connections.Add(ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var connection = new HttpConnection(client);
        var ct = _stopping.Token;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var request = await connection.ReadRequestAsync(ct);
                if (request is null)
                {
                    return;
                }

                await DispatchAsync(connection, request, ct);
                if (!request.KeepAlive)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or InvalidDataException or ChannelClosedException)
        {
            // The runtime went away (killed, exited) or the emulator is stopping.
        }
    }

    private async Task DispatchAsync(HttpConnection connection, HttpRequest request, CancellationToken ct)
    {
        var path = request.Path;
        if (!path.StartsWith(Prefix, StringComparison.Ordinal))
        {
            await ErrorAsync(connection, request, 404, "Not Found", "unknown path", ct);
            return;
        }

        var route = path[Prefix.Length..];
        if (route == "invocation/next" && request.Method == "GET")
        {
            await ServeNextAsync(connection, request, ct);
        }
        else if (route == "init/error" && request.Method == "POST")
        {
            _initError.TrySetResult(new InitErrorReport(request.Header("Lambda-Runtime-Function-Error-Type"), request.Body, _options.Time.GetUtcNow(), Stopwatch.GetTimestamp()));
            await connection.WriteResponseAsync(202, "Accepted", [new("Content-Type", "application/json")], Accepted, request.KeepAlive, ct);
        }
        else if (route.StartsWith("invocation/", StringComparison.Ordinal) && request.Method == "POST")
        {
            var rest = route["invocation/".Length..];
            var slash = rest.LastIndexOf('/');
            var requestId = slash > 0 ? Uri.UnescapeDataString(rest[..slash]) : string.Empty;
            var action = slash > 0 ? rest[(slash + 1)..] : string.Empty;
            if (!_inFlight.TryGetValue(requestId, out var pending) || pending.NextServedAt is null)
            {
                await ErrorAsync(connection, request, 400, "Bad Request", $"unknown or unserved request id '{requestId}'", ct);
                return;
            }

            if (action == "response" && request.Body.Length > _options.MaxResponseBytes)
            {
                await ErrorAsync(connection, request, 413, "Payload Too Large", "response exceeds the limit", ct);
                return;
            }

            if (action is not ("response" or "error"))
            {
                await ErrorAsync(connection, request, 404, "Not Found", $"unknown action '{action}'", ct);
                return;
            }

            var done = pending.Complete(action == "response", request.Body, request.Header("Lambda-Runtime-Function-Error-Type"), _options.Time.GetUtcNow());
            if (!done)
            {
                await ErrorAsync(connection, request, 400, "Bad Request", $"invocation '{requestId}' was already answered", ct);
                return;
            }

            await connection.WriteResponseAsync(202, "Accepted", [new("Content-Type", "application/json")], Accepted, request.KeepAlive, ct);
        }
        else
        {
            await ErrorAsync(connection, request, 404, "Not Found", $"no route for {request.Method} {path}", ct);
        }
    }

    private async Task ServeNextAsync(HttpConnection connection, HttpRequest request, CancellationToken ct)
    {
        Interlocked.Increment(ref _nextRequests);
        _firstNext.TrySetResult(_options.Time.GetUtcNow());
        var pending = await _queue.Reader.ReadAsync(ct);
        var now = _options.Time.GetUtcNow();
        pending.Served(now);
        var deadline = (now + _options.FunctionTimeout).ToUnixTimeMilliseconds();
        try
        {
            await connection.WriteResponseAsync(
                200,
                "OK",
                [
                    new("Content-Type", "application/json"),
                    new("Lambda-Runtime-Aws-Request-Id", pending.RequestId),
                    new("Lambda-Runtime-Deadline-Ms", deadline.ToString(CultureInfo.InvariantCulture)),
                    new("Lambda-Runtime-Invoked-Function-Arn", _options.FunctionArn),
                    new("Lambda-Runtime-Trace-Id", pending.TraceId),
                ],
                pending.Payload,
                request.KeepAlive,
                ct);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // The runtime hung up before getting the event: give it to the next /next.
            pending.Unserved();
            _queue.Writer.TryWrite(pending);
            throw;
        }
    }

    private static Task ErrorAsync(HttpConnection connection, HttpRequest request, int status, string reason, string message, CancellationToken ct)
    {
        var body = System.Text.Encoding.UTF8.GetBytes($"{{\"errorMessage\":\"{message.Replace("\"", "'", StringComparison.Ordinal)}\",\"errorType\":\"{reason.Replace(" ", string.Empty, StringComparison.Ordinal)}\"}}");
        return connection.WriteResponseAsync(status, reason, [new("Content-Type", "application/json")], body, request.KeepAlive, ct);
    }

    private sealed class Pending(string requestId, byte[] payload, string traceId, DateTimeOffset enqueuedAt)
    {
        private long _servedTimestamp;

        public string RequestId { get; } = requestId;

        public byte[] Payload { get; } = payload;

        public string TraceId { get; } = traceId;

        public DateTimeOffset EnqueuedAt { get; } = enqueuedAt;

        public DateTimeOffset? NextServedAt { get; private set; }

        public TaskCompletionSource<InvocationResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Served(DateTimeOffset at)
        {
            NextServedAt = at;
            _servedTimestamp = Stopwatch.GetTimestamp();
        }

        public void Unserved() => NextServedAt = null;

        public bool Complete(bool success, byte[] body, string? errorType, DateTimeOffset at) =>
            Result.TrySetResult(new InvocationResult(
                RequestId, success, body, success ? null : errorType, TraceId, EnqueuedAt, NextServedAt ?? at, at, _servedTimestamp, Stopwatch.GetTimestamp()));
    }
}
