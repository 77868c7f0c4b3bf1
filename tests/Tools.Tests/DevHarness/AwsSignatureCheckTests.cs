using System.Collections.Concurrent;
using System.Net;
using MskClickHouse.Core.Secrets;
using MskClickHouse.DevHarness.Fakes;

namespace MskClickHouse.Tools.Tests.DevHarness;

/// <summary>A loopback fake that re-signs what it receives: the sink's own signed requests pass, altered ones do not.</summary>
public sealed class AwsSignatureCheckTests
{
    private static readonly AwsCredentials Credentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session");

    [Fact]
    public async Task Problem_RequestSignedByTheSink_IsNone()
    {
        using var fake = new SigningFake();
        using var http = new HttpClient();
        using var request = AwsJsonRequest.Create(fake.Url, "AWSGlue.GetSchemaVersion", """{"SchemaVersionId":"x"}"""u8.ToArray(), Credentials, "eu-west-1", "glue", DateTimeOffset.UtcNow);

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal([null], fake.Problems);
    }

    [Theory]
    [InlineData("other secret")]
    [InlineData("other region")]
    [InlineData("body changed after signing")]
    public async Task Problem_SignatureThatIsNotTheOneForWhatArrived_IsReported(string change)
    {
        using var fake = new SigningFake();
        using var http = new HttpClient();
        var credentials = change == "other secret" ? Credentials with { SecretAccessKey = "another" } : Credentials;
        using var request = AwsJsonRequest.Create(fake.Url, "AWSGlue.GetSchemaVersion", """{"SchemaVersionId":"x"}"""u8.ToArray(), credentials, change == "other region" ? "us-east-1" : "eu-west-1", "glue", DateTimeOffset.UtcNow);
        if (change == "body changed after signing")
        {
            request.Content = new ByteArrayContent("""{"SchemaVersionId":"y"}"""u8.ToArray()) { Headers = { ContentType = request.Content!.Headers.ContentType } };
        }

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);

        var problem = Assert.Single(fake.Problems);
        Assert.StartsWith("glue signature mismatch: got AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Problem_NoAmzDate_IsReported()
    {
        using var fake = new SigningFake();
        using var http = new HttpClient();
        using var content = new StringContent("{}");

        using var response = await http.PostAsync(fake.Url, content, TestContext.Current.CancellationToken);

        Assert.Equal("glue request without a valid X-Amz-Date ('')", Assert.Single(fake.Problems));
    }

    /// <summary>Answers 200 to everything and records what the check says of each request (null: well signed).</summary>
    private sealed class SigningFake : LoopbackHttpServer
    {
        public SigningFake()
            : base(concurrent: false) => Start();

        public ConcurrentQueue<string?> Problems { get; } = new();

        protected override (int Status, string ContentType, string Body) Answer(HttpListenerRequest request, byte[] body)
        {
            Problems.Enqueue(AwsSignatureCheck.Problem(request, body, Credentials, "eu-west-1", "glue"));
            return (200, "application/x-amz-json-1.1", "{}");
        }
    }
}
