using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace MskClickHouse.DevHarness;

/// <summary>
/// Plain SQL over ClickHouse's HTTP interface (POST /, basic auth), for the engine a development run talks to: the
/// embedded one or one given by URL. The sink itself never uses this: it goes through ClickHouse.Driver.
/// </summary>
public sealed class EngineClient : IDisposable
{
    private readonly HttpClient _http;

    public EngineClient(Uri url, string user, string password)
    {
        ArgumentNullException.ThrowIfNull(url);
        Url = url;
        User = user;
        Password = password;
        _http = new HttpClient { BaseAddress = new Uri(url.GetLeftPart(UriPartial.Authority)), Timeout = TimeSpan.FromMinutes(5) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
    }

    public Uri Url { get; }

    public string User { get; }

    public string Password { get; }

    /// <summary>Runs SQL and returns the body (TabSeparated unless the SQL says FORMAT); a non-2xx answer is an <see cref="EngineQueryException"/>.</summary>
    public async Task<string> QueryAsync(string sql, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        using var content = new StringContent(sql, Encoding.UTF8);
        using var response = await _http.PostAsync(new Uri("/", UriKind.Relative), content, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode ? body : throw new EngineQueryException(sql, response.StatusCode, body.Trim());
    }

    /// <summary>The one number a query answers (e.g. <c>SELECT count() FROM t</c>).</summary>
    public async Task<long> ScalarAsync(string sql, CancellationToken cancellationToken = default) =>
        long.Parse((await QueryAsync(sql, cancellationToken)).Trim(), CultureInfo.InvariantCulture);

    /// <summary>The rows of <paramref name="table"/> (database-qualified).</summary>
    public Task<long> CountAsync(string table, CancellationToken cancellationToken = default) =>
        ScalarAsync($"SELECT count() FROM {table}", cancellationToken);

    public void Dispose() => _http.Dispose();
}

/// <summary>The engine refused a query: its HTTP status, the query (cut to 200 characters) and the engine's answer.</summary>
public sealed class EngineQueryException(string sql, HttpStatusCode status, string answer)
    : HttpRequestException(string.Create(CultureInfo.InvariantCulture, $"ClickHouse answered {(int)status} to '{Cut(sql)}': {answer}"), null, status)
{
    /// <summary>What the engine answered (its error text, e.g. "Code: 60. DB::Exception: ...").</summary>
    public string Answer { get; } = answer;

    private static string Cut(string sql) => sql.Length <= 200 ? sql : sql[..200] + "...";
}
