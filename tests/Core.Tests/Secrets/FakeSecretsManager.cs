using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using MskClickHouse.Core.Secrets;

namespace MskClickHouse.Core.Tests.Secrets;

/// <summary>
/// Secrets Manager on 127.0.0.1 (HttpListener): checks that each request is a well-formed, correctly signed
/// GetSecretValue call (re-computing the SigV4 signature from what arrived) and answers with the next scripted reply.
/// </summary>
internal sealed class FakeSecretsManager : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Queue<(int Status, string Body)> _replies = new();
    private readonly AwsCredentials _credentials;
    private readonly string _region;
    private readonly Task _serving;

    public FakeSecretsManager(AwsCredentials credentials, string region, params (int Status, string Body)[] replies)
    {
        _credentials = credentials;
        _region = region;
        foreach (var reply in replies)
        {
            _replies.Enqueue(reply);
        }

        var port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _serving = ServeAsync();
    }

    public Uri Endpoint { get; }

    public List<string> Problems { get; } = [];

    public List<string> SecretIds { get; } = [];

    public int Requests { get; private set; }

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            Requests++;
            using var bodyStream = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(bodyStream);
            var body = bodyStream.ToArray();
            Check(context.Request, body);
            var (status, reply) = _replies.Count > 1 ? _replies.Dequeue() : _replies.Peek();
            var bytes = Encoding.UTF8.GetBytes(reply);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/x-amz-json-1.1";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private void Check(HttpListenerRequest request, byte[] body)
    {
        void Expect(bool ok, string problem)
        {
            if (!ok)
            {
                Problems.Add(problem);
            }
        }

        Expect(request.HttpMethod == "POST", $"method {request.HttpMethod}");
        Expect(request.Url!.AbsolutePath == "/", $"path {request.Url.AbsolutePath}");
        Expect(request.Headers["X-Amz-Target"] == "secretsmanager.GetSecretValue", $"target {request.Headers["X-Amz-Target"]}");
        Expect(request.ContentType == "application/x-amz-json-1.1", $"content type {request.ContentType}");
        Expect(request.Headers["X-Amz-Security-Token"] == _credentials.SessionToken, "session token header");
        var amzDate = request.Headers["X-Amz-Date"] ?? string.Empty;
        var authorization = request.Headers["Authorization"] ?? string.Empty;
        Expect(authorization.StartsWith($"AWS4-HMAC-SHA256 Credential={_credentials.AccessKeyId}/{amzDate[..Math.Min(8, amzDate.Length)]}/{_region}/secretsmanager/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=", StringComparison.Ordinal), $"authorization {authorization}");

        using (var doc = JsonDocument.Parse(body))
        {
            SecretIds.Add(doc.RootElement.GetProperty("SecretId").GetString()!);
        }

        // Re-sign what arrived: the signature must be the one for exactly these headers and this body.
        var time = DateTimeOffset.ParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal);
        var expected = SigV4.Sign(
            new SigV4Request(
                "POST",
                request.Headers["Host"]!,
                "/",
                [new("Content-Type", request.ContentType!), new("Host", request.Headers["Host"]!), new("X-Amz-Target", request.Headers["X-Amz-Target"]!)],
                body),
            _credentials,
            _region,
            "secretsmanager",
            time);
        Expect(expected.Authorization == authorization, $"signature mismatch: expected {expected.Authorization}");
    }
}
