using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using MskClickHouse.Simulation;

namespace MskClickHouse.LocalRun;

/// <summary>
/// An HTTP proxy on 127.0.0.1 between the function and ClickHouse that injects faults with the simulation kit's
/// <see cref="FaultInjectingHandler"/>: a refused request answers 503 (code 202); a lost answer reaches the engine,
/// is applied, and then the client's connection is aborted; a late apply aborts the connection at once and reaches the
/// engine 0.5–3 s later; a lagging replica acknowledges an insert that ordinary reads see only 0.3–2 s later.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Transfer-Encoding", "Keep-Alive", "Content-Length", "Content-Type", "Content-Encoding",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _client;

    private FaultProxy(WebApplication app, HttpClient client, FaultInjectingHandler faults, Uri url)
    {
        _app = app;
        _client = client;
        Faults = faults;
        Url = url;
    }

    public FaultInjectingHandler Faults { get; }

    public Uri Url { get; }

    public static async Task<FaultProxy> StartAsync(Uri target, Func<HttpRequestMessage, Fault> decide, int seed, CancellationToken cancellationToken)
    {
        var faults = new FaultInjectingHandler(new SocketsHttpHandler(), decide, seed);
        var client = new HttpClient(faults) { Timeout = Timeout.InfiniteTimeSpan };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(context => ForwardAsync(context, client, target));
        await app.StartAsync(cancellationToken);
        var address = new Uri(app.Urls.First());
        return new FaultProxy(app, client, faults, address);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _client.Dispose();
    }

    private static async Task ForwardAsync(HttpContext context, HttpClient client, Uri target)
    {
        var source = context.Request;
        using var request = new HttpRequestMessage(new HttpMethod(source.Method), new Uri(target, source.Path + source.QueryString));
        if (source.ContentLength > 0 || source.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(source.Body);
            if (source.ContentType is { } type)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }

            if (source.Headers.ContentEncoding.Count > 0)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Encoding", source.Headers.ContentEncoding.ToArray());
            }
        }

        foreach (var (name, values) in source.Headers)
        {
            if (!HopByHop.Contains(name))
            {
                request.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException)
        {
            context.Abort();
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!HopByHop.Contains(name) || name is "Content-Type" or "Content-Encoding")
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }
}
