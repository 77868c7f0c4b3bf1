namespace MskClickHouse.Core.Secrets;

/// <summary>
/// One AWS JSON-protocol service as the sink calls it (Secrets Manager, Glue): its endpoint, and the credentials,
/// region and clock each request is signed with (<see cref="AwsJsonRequest"/>). A service that cannot be reached or
/// does not answer in time becomes the caller's own retryable error (<see cref="ServiceCall"/>).
/// </summary>
public sealed class AwsJsonClient
{
    private readonly HttpClient _http;
    private readonly AwsCredentials _credentials;
    private readonly string _region;
    private readonly string _service;
    private readonly string _name;
    private readonly TimeProvider _time;

    /// <param name="service">The signing name and endpoint prefix, e.g. <c>glue</c>.</param>
    /// <param name="name">How messages name the service, e.g. <c>Glue</c>.</param>
    public AwsJsonClient(HttpClient http, AwsCredentials credentials, string region, Uri endpoint, string service, string name, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentException.ThrowIfNullOrEmpty(region);
        ArgumentNullException.ThrowIfNull(endpoint);
        _http = http;
        _credentials = credentials;
        _region = region;
        Endpoint = endpoint;
        _service = service;
        _name = name;
        _time = time ?? TimeProvider.System;
    }

    public Uri Endpoint { get; }

    /// <summary>https://{service}.{region}.amazonaws.com (amazonaws.com.cn in China regions).</summary>
    public static Uri DefaultEndpoint(string service, string region)
    {
        ArgumentNullException.ThrowIfNull(region);
        return new(region.StartsWith("cn-", StringComparison.Ordinal) ? $"https://{service}.{region}.amazonaws.com.cn/" : $"https://{service}.{region}.amazonaws.com/");
    }

    /// <summary>Signs and sends one call of <paramref name="target"/> (e.g. <c>AWSGlue.GetSchemaVersion</c>); the caller reads and disposes the answer.</summary>
    /// <param name="doing">What for, appended to an unavailability message (e.g. " fetching glue:…"), or empty.</param>
    /// <param name="unavailable">Makes the caller's retryable exception from the message and the cause.</param>
    public async Task<HttpResponseMessage> SendAsync(string target, byte[] body, string doing, Func<string, Exception, Exception> unavailable, CancellationToken cancellationToken)
    {
        using var request = AwsJsonRequest.Create(Endpoint, target, body, _credentials, _region, _service, _time.GetUtcNow());
        return await ServiceCall.SendAsync(_http, request, $"{_name} at {Endpoint.Host}", doing, unavailable, cancellationToken);
    }
}
