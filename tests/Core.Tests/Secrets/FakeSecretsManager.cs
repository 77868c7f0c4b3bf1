using System.Net;
using System.Text.Json;
using MskClickHouse.Core.Secrets;
using MskClickHouse.DevHarness.Fakes;

namespace MskClickHouse.Core.Tests.Secrets;

/// <summary>
/// Secrets Manager on 127.0.0.1: checks that each request is a well-formed, correctly signed GetSecretValue call
/// (re-computing the SigV4 signature from what arrived) and answers with the next scripted reply, one request at a time.
/// </summary>
internal sealed class FakeSecretsManager : LoopbackHttpServer
{
    private readonly Queue<(int Status, string Body)> _replies = new();
    private readonly AwsCredentials _credentials;
    private readonly string _region;

    public FakeSecretsManager(AwsCredentials credentials, string region, params (int Status, string Body)[] replies)
        : base(concurrent: false)
    {
        _credentials = credentials;
        _region = region;
        foreach (var reply in replies)
        {
            _replies.Enqueue(reply);
        }

        Start();
    }

    public Uri Endpoint => Url;

    public List<string> Problems { get; } = [];

    public List<string> SecretIds { get; } = [];

    public int Requests { get; private set; }

    protected override (int Status, string ContentType, string Body) Answer(HttpListenerRequest request, byte[] body)
    {
        Requests++;
        Check(request, body);
        var (status, reply) = _replies.Count > 1 ? _replies.Dequeue() : _replies.Peek();
        return (status, "application/x-amz-json-1.1", reply);
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
        if (AwsSignatureCheck.Problem(request, body, _credentials, _region, "secretsmanager") is { } problem)
        {
            Problems.Add(problem);
        }
    }
}
