using System.Net;

namespace MskClickHouse.Simulation;

/// <summary>What the fault layer does to one request.</summary>
public enum Fault
{
    None,

    /// <summary>Answer 503 with ClickHouse code 202 without forwarding: the server never saw it.</summary>
    RefuseBeforeSending,

    /// <summary>Forward, let the server apply it, then drop the answer (connection reset).</summary>
    LoseAnswerAfterApplying,

    /// <summary>Wait <see cref="FaultInjectingHandler.Delay"/> before forwarding (a slow server or network).</summary>
    Delay,
}

/// <summary>
/// An HTTP layer between the sink's ClickHouse client and the engine that injects the failures that matter for
/// exactly-once delivery. The decision is a function of the request, so a seeded random source makes runs repeatable.
/// </summary>
public sealed class FaultInjectingHandler : DelegatingHandler
{
    private int _refused;
    private int _lost;
    private int _delayed;

    public FaultInjectingHandler(HttpMessageHandler inner, Func<HttpRequestMessage, Fault> decide)
        : base(inner)
    {
        Decide = decide;
    }

    public Func<HttpRequestMessage, Fault> Decide { get; set; }

    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(2);

    public int Refused => _refused;

    public int Lost => _lost;

    public int Delayed => _delayed;

    /// <summary>True when the request is an INSERT (the query is in the URL or at the start of the body).</summary>
    public static bool IsInsert(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = Uri.UnescapeDataString(request.RequestUri?.Query ?? string.Empty);
        return query.Contains("INSERT", StringComparison.OrdinalIgnoreCase);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        switch (Decide(request))
        {
            case Fault.RefuseBeforeSending:
                Interlocked.Increment(ref _refused);
                var refused = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                {
                    Content = new StringContent("Code: 202. DB::Exception: Too many simultaneous queries (injected fault). (TOO_MANY_SIMULTANEOUS_QUERIES)"),
                    RequestMessage = request,
                };
                refused.Headers.Add("X-ClickHouse-Exception-Code", "202");
                return refused;
            case Fault.LoseAnswerAfterApplying:
                Interlocked.Increment(ref _lost);
                using (var applied = await base.SendAsync(request, cancellationToken))
                {
                    await applied.Content.LoadIntoBufferAsync(cancellationToken);
                }

                throw new HttpRequestException("injected fault: the connection was reset after the server applied the request");
            case Fault.Delay:
                Interlocked.Increment(ref _delayed);
                await Task.Delay(Delay, cancellationToken);
                return await base.SendAsync(request, cancellationToken);
            default:
                return await base.SendAsync(request, cancellationToken);
        }
    }
}
