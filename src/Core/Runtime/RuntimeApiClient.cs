using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Runtime;

/// <summary>
/// Lambda Runtime API client over one keep-alive <see cref="HttpClient"/> with an infinite timeout
/// (GET /next blocks until an event arrives; Lambda freezes the process meanwhile).
/// The event body is read into one pooled buffer that is reused across invocations: no string copy of the event.
/// Not thread-safe: one invocation at a time, as the Runtime API itself is used.
/// </summary>
public sealed class RuntimeApiClient : IRuntimeApi, IDisposable
{
    public const string EnvironmentVariable = "AWS_LAMBDA_RUNTIME_API";
    public const string RequestIdHeader = "Lambda-Runtime-Aws-Request-Id";
    public const string DeadlineHeader = "Lambda-Runtime-Deadline-Ms";
    public const string FunctionArnHeader = "Lambda-Runtime-Invoked-Function-Arn";
    public const string TraceIdHeader = "Lambda-Runtime-Trace-Id";
    public const string ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";

    private static readonly MediaTypeHeaderValue JsonType = new("application/json");

    private readonly HttpClient _http;
    private readonly Uri _next;
    private readonly string _invocationBase;
    private readonly Uri _initError;
    private byte[] _buffer;

    /// <param name="endpoint">host:port, as in AWS_LAMBDA_RUNTIME_API.</param>
    /// <param name="handler">For tests; by default a SocketsHttpHandler without proxy, cookies or decompression.</param>
    public RuntimeApiClient(string endpoint, HttpMessageHandler? handler = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(endpoint);
        var root = $"http://{endpoint.Trim().TrimEnd('/')}/2018-06-01/runtime/";
        if (!Uri.TryCreate(root, UriKind.Absolute, out var rootUri))
        {
            throw new ArgumentException($"{EnvironmentVariable} '{endpoint}' is not host:port", nameof(endpoint));
        }

        _next = new Uri(rootUri, "invocation/next");
        _invocationBase = root + "invocation/";
        _initError = new Uri(rootUri, "init/error");
        _http = new HttpClient(
            handler ?? new SocketsHttpHandler
            {
                UseProxy = false,
                UseCookies = false,
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.None,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                ConnectTimeout = TimeSpan.FromSeconds(10),
            },
            disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    }

    /// <summary>From AWS_LAMBDA_RUNTIME_API; throws when it is not set (not running under Lambda or the emulator).</summary>
    public static RuntimeApiClient FromEnvironment()
    {
        var endpoint = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            throw new InvalidOperationException($"{EnvironmentVariable} is not set: this program runs under AWS Lambda (or the Runtime API emulator)");
        }

        return new RuntimeApiClient(endpoint);
    }

    public async Task<Invocation> GetNextInvocationAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _next);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new RuntimeApiException($"GET invocation/next answered {(int)response.StatusCode}", (int)response.StatusCode);
        }

        var requestId = Header(response, RequestIdHeader)
            ?? throw new RuntimeApiException($"GET invocation/next answered without {RequestIdHeader}");
        var deadlineText = Header(response, DeadlineHeader);
        var deadline = long.TryParse(deadlineText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : throw new RuntimeApiException($"GET invocation/next answered with {DeadlineHeader} '{deadlineText}', expected Unix milliseconds");
        var context = new InvocationContext(requestId, deadline, Header(response, FunctionArnHeader) ?? string.Empty, Header(response, TraceIdHeader));

        var length = await ReadBodyAsync(response.Content, cancellationToken);
        return new Invocation(context, _buffer.AsMemory(0, length));
    }

    public async Task PostResponseAsync(string requestId, ReadOnlyMemory<byte> response, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        using var request = new HttpRequestMessage(HttpMethod.Post, InvocationUri(requestId, "response"))
        {
            Content = new ReadOnlyMemoryContent(response) { Headers = { ContentType = JsonType } },
        };
        await SendExpectingAcceptedAsync(request, "invocation response", cancellationToken);
    }

    public Task PostInvocationErrorAsync(string requestId, RuntimeError error, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        return PostErrorAsync(InvocationUri(requestId, "error"), error, "invocation error", cancellationToken);
    }

    public Task PostInitErrorAsync(RuntimeError error, CancellationToken cancellationToken) =>
        PostErrorAsync(_initError, error, "init error", cancellationToken);

    public void Dispose()
    {
        _http.Dispose();
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The error document, written with Utf8JsonWriter (no reflection).</summary>
    public static byte[] SerializeError(RuntimeError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        using var stream = new MemoryStream(256);
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("errorMessage", error.ErrorMessage);
            w.WriteString("errorType", error.ErrorType);
            w.WriteStartArray("stackTrace");
            foreach (var frame in error.StackTrace)
            {
                w.WriteStringValue(frame);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return stream.ToArray();
    }

    private async Task PostErrorAsync(Uri uri, RuntimeError error, string what, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(error);
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new ByteArrayContent(SerializeError(error)) { Headers = { ContentType = JsonType } },
        };
        request.Headers.TryAddWithoutValidation(ErrorTypeHeader, HeaderSafe(error.ErrorType));
        await SendExpectingAcceptedAsync(request, what, cancellationToken);
    }

    private async Task SendExpectingAcceptedAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            var detail = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new RuntimeApiException(
                $"POST {what} answered {(int)response.StatusCode}: {Truncate(detail, 512)}", (int)response.StatusCode);
        }
    }

    private async Task<int> ReadBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is { } declared && declared > _buffer.Length)
        {
            Grow(checked((int)declared), 0);
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var length = 0;
        while (true)
        {
            if (length == _buffer.Length)
            {
                Grow(_buffer.Length * 2, length);
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                return length;
            }

            length += read;
        }

        void Grow(int size, int keep)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(size);
            _buffer.AsSpan(0, keep).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
    }

    private Uri InvocationUri(string requestId, string action) =>
        new(_invocationBase + Uri.EscapeDataString(requestId) + "/" + action);

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

    private static string HeaderSafe(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            builder.Append(c is >= ' ' and < (char)127 ? c : '_');
        }

        return builder.ToString();
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max];
}
