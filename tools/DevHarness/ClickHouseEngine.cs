namespace MskClickHouse.DevHarness;

/// <summary>
/// The engine a development run talks to: the embedded chDB server (owned: stopped on dispose) or an existing
/// ClickHouse given by URL, with its SQL client.
/// </summary>
public sealed class ClickHouseEngine : IAsyncDisposable
{
    private readonly EmbeddedClickHouse? _owned;

    private ClickHouseEngine(EngineClient client, EmbeddedClickHouse? owned)
    {
        Client = client;
        _owned = owned;
    }

    public EngineClient Client { get; }

    public Uri Url => Client.Url;

    public string User => Client.User;

    public string Password => Client.Password;

    /// <summary>True when this engine is the embedded server started by <see cref="StartEmbeddedAsync"/>.</summary>
    public bool IsEmbedded => _owned is not null;

    /// <summary>An existing ClickHouse, checked with one <c>SELECT 1</c> (an <see cref="HttpRequestException"/> when unreachable).</summary>
    public static async Task<ClickHouseEngine> ConnectAsync(Uri url, string user, string password, CancellationToken cancellationToken = default)
    {
        var client = new EngineClient(url, user, password);
        try
        {
            await client.QueryAsync("SELECT 1", cancellationToken);
        }
        catch
        {
            client.Dispose();
            throw;
        }

        return new ClickHouseEngine(client, null);
    }

    /// <summary>Starts the embedded server (see <see cref="EmbeddedClickHouse.StartAsync"/> for what it throws).</summary>
    public static async Task<ClickHouseEngine> StartEmbeddedAsync(EmbeddedClickHouseOptions? options = null, CancellationToken cancellationToken = default)
    {
        var server = await EmbeddedClickHouse.StartAsync(options, cancellationToken);
        return new ClickHouseEngine(server.Client, server);
    }

    public Task<string> QueryAsync(string sql, CancellationToken cancellationToken = default) => Client.QueryAsync(sql, cancellationToken);

    public Task<long> ScalarAsync(string sql, CancellationToken cancellationToken = default) => Client.ScalarAsync(sql, cancellationToken);

    public Task<long> CountAsync(string table, CancellationToken cancellationToken = default) => Client.CountAsync(table, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_owned is not null)
        {
            await _owned.DisposeAsync();
        }
        else
        {
            Client.Dispose();
        }
    }
}
