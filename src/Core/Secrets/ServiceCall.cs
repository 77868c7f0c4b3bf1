namespace MskClickHouse.Core.Secrets;

/// <summary>
/// Sends one request of the sink's own HTTPS clients (Secrets Manager, the Glue and Confluent schema registries):
/// a service that cannot be reached, or does not answer within the HttpClient's timeout, becomes the caller's own
/// retryable error. The caller's cancellation is not a timeout and passes through as it is.
/// </summary>
internal static class ServiceCall
{
    /// <param name="service">Who was called, for the message: e.g. "Glue at glue.eu-west-1.amazonaws.com".</param>
    /// <param name="doing">What for, appended to the message (e.g. " fetching confluent:7"), or empty.</param>
    /// <param name="unavailable">Makes the caller's exception from the message and the cause.</param>
    public static async Task<HttpResponseMessage> SendAsync(
        HttpClient http,
        HttpRequestMessage request,
        string service,
        string doing,
        Func<string, Exception, Exception> unavailable,
        CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw unavailable($"{service} is unreachable{doing}: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw unavailable($"{service} did not answer in time{doing}", e);
        }
    }
}
