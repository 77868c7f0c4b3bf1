using System.Net.Http.Headers;
using System.Text;

namespace MskClickHouse.LocalRun;

// Inside the namespace: MskClickHouse.EmbeddedClickHouse (the server) would otherwise win the name lookup.
using EmbeddedClickHouse = MskClickHouse.Embedded.EmbeddedClickHouse;

/// <summary>ClickHouse over HTTP: the embedded server (owned) or an existing one (--clickhouse-url).</summary>
internal sealed class ClickHouseEngine(Uri url, string user, string password, EmbeddedClickHouse? owned) : IAsyncDisposable
{
    private readonly HttpClient _http = CreateClient(url, user, password);

    public Uri Url => url;

    public string User => user;

    public string Password => password;

    /// <summary>
    /// Connects to <paramref name="url"/> (credentials from CLICKHOUSE_USER / CLICKHOUSE_PASSWORD) after one
    /// SELECT 1, or starts the embedded chDB server when no URL is given.
    /// </summary>
    public static async Task<ClickHouseEngine> StartAsync(Uri? url, TextWriter error, CancellationToken ct)
    {
        if (url is not null)
        {
            var user = Environment.GetEnvironmentVariable("CLICKHOUSE_USER") ?? "default";
            var password = Environment.GetEnvironmentVariable("CLICKHOUSE_PASSWORD") ?? string.Empty;
            var external = new ClickHouseEngine(url, user, password, null);
            try
            {
                await external.QueryAsync("SELECT 1", ct);
            }
            catch (HttpRequestException e)
            {
                throw new LocalRunException($"ClickHouse at {url} is unreachable: {e.Message}");
            }

            return external;
        }

        await error.WriteLineAsync("starting the embedded ClickHouse (chDB) ...");
        try
        {
            var server = await EmbeddedClickHouse.StartAsync(cancellationToken: ct);
            return new ClickHouseEngine(server.BaseUri, server.User, server.Password, server);
        }
        catch (Exception e) when (e is InvalidOperationException or FileNotFoundException)
        {
            throw new LocalRunException($"the embedded ClickHouse did not start (is CHDB_LIB set? run.sh sets it): {e.Message}");
        }
    }

    public async Task<string> QueryAsync(string sql, CancellationToken ct)
    {
        using var content = new StringContent(sql, Encoding.UTF8);
        using var response = await _http.PostAsync(new Uri("/", UriKind.Relative), content, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        return response.IsSuccessStatusCode ? body : throw new LocalRunException($"ClickHouse answered {(int)response.StatusCode} to '{sql}': {body.Trim()}");
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (owned is not null)
        {
            await owned.DisposeAsync();
        }
    }

    private static HttpClient CreateClient(Uri url, string user, string password)
    {
        var http = new HttpClient { BaseAddress = new Uri(url.GetLeftPart(UriPartial.Authority)), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return http;
    }
}
