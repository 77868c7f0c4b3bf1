using System.Net.Http.Headers;

namespace MskClickHouse.Core.Secrets;

/// <summary>
/// A SigV4-signed request of AWS's JSON protocol (awsJson1_1: <c>POST /</c> with <c>X-Amz-Target</c> naming the
/// operation), as Secrets Manager's GetSecretValue and Glue's GetSchemaVersion take it. The signed headers are
/// Content-Type, Host and X-Amz-Target; a session token, when the credentials have one, travels unsigned in
/// <c>X-Amz-Security-Token</c>, which both services accept.
/// </summary>
public static class AwsJsonRequest
{
    private static readonly MediaTypeHeaderValue AmzJson = new("application/x-amz-json-1.1");

    /// <summary>Builds the signed request; the caller sends and disposes it.</summary>
    public static HttpRequestMessage Create(Uri endpoint, string target, byte[] body, AwsCredentials credentials, string region, string service, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(credentials);
        var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = AmzJson } },
        };
        request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
        var host = endpoint.IsDefaultPort ? endpoint.Host : $"{endpoint.Host}:{endpoint.Port}";
        var signature = SigV4.Sign(
            new SigV4Request("POST", host, endpoint.AbsolutePath, [new("Content-Type", AmzJson.ToString()), new("Host", host), new("X-Amz-Target", target)], body),
            credentials,
            region,
            service,
            now);
        request.Headers.TryAddWithoutValidation("X-Amz-Date", signature.AmzDate);
        if (credentials.SessionToken is { } token)
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", token);
        }

        request.Headers.TryAddWithoutValidation("Authorization", signature.Authorization);
        return request;
    }
}
