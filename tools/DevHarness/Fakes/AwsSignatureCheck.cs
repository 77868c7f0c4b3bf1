using System.Globalization;
using System.Net;
using MskClickHouse.Core.Secrets;

namespace MskClickHouse.DevHarness.Fakes;

/// <summary>
/// Checks an AWS JSON-protocol request the way the service does: re-signs what arrived (method, Host, path,
/// Content-Type, X-Amz-Target, body, at its X-Amz-Date) with the expected credentials and compares the
/// Authorization header. A fake that uses it proves the function's signature, not only that one was sent.
/// </summary>
public static class AwsSignatureCheck
{
    /// <summary>What is wrong with the request's signature, or null when it is the one AWS would compute.</summary>
    public static string? Problem(HttpListenerRequest request, byte[] body, AwsCredentials credentials, string region, string service)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(credentials);
        var amzDate = request.Headers["X-Amz-Date"] ?? string.Empty;
        var authorization = request.Headers["Authorization"] ?? string.Empty;
        if (!DateTimeOffset.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return $"{service} request without a valid X-Amz-Date ('{amzDate}')";
        }

        var host = request.Headers["Host"] ?? string.Empty;
        var expected = SigV4.Sign(
            new SigV4Request(
                request.HttpMethod,
                host,
                request.Url!.AbsolutePath,
                [new("Content-Type", request.ContentType ?? string.Empty), new("Host", host), new("X-Amz-Target", request.Headers["X-Amz-Target"] ?? string.Empty)],
                body),
            credentials,
            region,
            service,
            time);
        return expected.Authorization == authorization ? null : $"{service} signature mismatch: got {authorization}, expected {expected.Authorization}";
    }
}
