using System.Text;
using MskClickHouse.Core.Secrets;

namespace MskClickHouse.Core.Tests.Secrets;

/// <summary>Known answers from AWS's published Signature Version 4 test suite (aws-sig-v4-test-suite).</summary>
public sealed class SigV4Tests
{
    private static readonly AwsCredentials SuiteCredentials = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    private static readonly DateTimeOffset SuiteTime = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);
    private const string Scope = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ";

    public static TheoryData<string, string, string, string[], string, string[], string> Vectors => new()
    {
        { "get-vanilla", "GET", "/", [], "", [], "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
        { "get-vanilla-query-order-key-case", "GET", "/", [], "", ["Param2", "value2", "Param1", "value1"], "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" },
        { "get-utf8", "GET", "/\u1234", [], "", [], "SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85" },
        { "get-header-value-trim", "GET", "/", ["My-Header1", "value1", "My-Header2", "\"a   b   c\""], "", [], "SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736" },
        { "post-vanilla", "POST", "/", [], "", [], "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b" },
        { "post-x-www-form-urlencoded", "POST", "/", ["Content-Type", "application/x-www-form-urlencoded"], "Param1=value1", [], "SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a" },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Sign_SuiteVector_GivesThePublishedAuthorization(string name, string method, string path, string[] headers, string body, string[] query, string expected)
    {
        var request = new SigV4Request(
            method,
            "example.amazonaws.com",
            path,
            [.. headers.Chunk(2).Select(h => new KeyValuePair<string, string>(h[0], h[1]))],
            Encoding.UTF8.GetBytes(body),
            [.. query.Chunk(2).Select(q => new KeyValuePair<string, string>(q[0], q[1]))]);

        var signature = SigV4.Sign(request, SuiteCredentials, "us-east-1", "service", SuiteTime);

        Assert.True(Scope + expected == signature.Authorization, $"{name}: {signature.Authorization}\n{signature.CanonicalRequest}");
        Assert.Equal("20150830T123600Z", signature.AmzDate);
    }

    [Fact]
    public void Sign_GetVanilla_CanonicalRequestAndStringToSignMatchTheSuite()
    {
        var signature = SigV4.Sign(new SigV4Request("GET", "example.amazonaws.com", "/", [], ReadOnlyMemory<byte>.Empty), SuiteCredentials, "us-east-1", "service", SuiteTime);

        Assert.Equal(
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            signature.CanonicalRequest);
        Assert.Equal(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            signature.StringToSign);
    }

    [Fact]
    public void Sign_PostStsHeaderBefore_SignsTheSessionToken()
    {
        const string token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

        var signature = SigV4.Sign(
            new SigV4Request("POST", "example.amazonaws.com", "/", [], ReadOnlyMemory<byte>.Empty),
            SuiteCredentials with { SessionToken = token },
            "us-east-1",
            "service",
            SuiteTime);

        Assert.Equal(
            Scope + "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
            signature.Authorization);
    }

    [Fact]
    public void Credentials_ToString_NeverShowsTheSecretOrToken()
    {
        var text = new AwsCredentials("AKID", "very-secret", "session-token").ToString();

        Assert.DoesNotContain("very-secret", text, StringComparison.Ordinal);
        Assert.DoesNotContain("session-token", text, StringComparison.Ordinal);
    }
}
