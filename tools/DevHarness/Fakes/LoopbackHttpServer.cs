using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MskClickHouse.DevHarness.Fakes;

/// <summary>
/// An HTTP server on 127.0.0.1 (HttpListener on a free port) for fakes of the services the function calls: each
/// request's body is read whole and handed to <see cref="Answer"/>, whose status, content type and body go back.
/// A derived class calls <see cref="Start"/> at the end of its constructor, once its own state is set.
/// </summary>
public abstract class LoopbackHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly bool _concurrent;
    private Task _serving = Task.CompletedTask;

    /// <param name="concurrent">Answer requests in parallel; false answers them one at a time, in arrival order.</param>
    protected LoopbackHttpServer(bool concurrent)
    {
        _concurrent = concurrent;
        Url = new Uri($"http://127.0.0.1:{FreePort()}/");
        _listener.Prefixes.Add(Url.ToString());
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri Url { get; }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts listening; call once, after the derived constructor has set what <see cref="Answer"/> reads.</summary>
    protected void Start()
    {
        _listener.Start();
        _serving = ServeAsync();
    }

    /// <summary>The answer to one request whose body has been read.</summary>
    protected abstract (int Status, string ContentType, string Body) Answer(HttpListenerRequest request, byte[] body);

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }

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

            if (_concurrent)
            {
                _ = Task.Run(() => RespondAsync(context));
            }
            else
            {
                await RespondAsync(context);
            }
        }
    }

    private async Task RespondAsync(HttpListenerContext context)
    {
        try
        {
            using var bodyStream = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(bodyStream);
            var (status, contentType, reply) = Answer(context.Request, bodyStream.ToArray());
            var bytes = Encoding.UTF8.GetBytes(reply);
            context.Response.StatusCode = status;
            context.Response.ContentType = contentType;
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
        {
            // the client went away
        }
    }
}
