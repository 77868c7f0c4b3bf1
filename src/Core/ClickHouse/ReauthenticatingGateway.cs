using MskClickHouse.Core.Logging;





namespace MskClickHouse.Core.ClickHouse;

/// <summary>
/// Survives a password rotated in Secrets Manager after start-up: when ClickHouse answers an authentication error
/// (516 AUTHENTICATION_FAILED and the other <see cref="ClickHouseErrorKind.Auth"/> codes), the secret is fetched
/// again once, a client with the new password replaces the old one, and the call is made once more. A secret that did
/// not change is not fetched again for <see cref="RefetchInterval"/>, so a wrong password costs one Secrets Manager
/// call per interval, not one per request.
/// </summary>
public sealed class ReauthenticatingGateway : IClickHouseGateway, IDisposable
{
    public static readonly TimeSpan RefetchInterval = TimeSpan.FromSeconds(30);

    private readonly Func<string?, IClickHouseGateway> _create;
    private readonly Func<CancellationToken, Task<string>> _fetchPassword;
    private readonly ISinkLog _log;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly List<IClickHouseGateway> _retired = [];
    private Current _current;
    private DateTimeOffset _lastFetch = DateTimeOffset.MinValue;

    /// <param name="password">The password the first client uses (resolved at start-up).</param>
    /// <param name="create">Builds a client for a password.</param>
    /// <param name="fetchPassword">Reads the secret again.</param>
    public ReauthenticatingGateway(string? password, Func<string?, IClickHouseGateway> create, Func<CancellationToken, Task<string>> fetchPassword, ISinkLog log, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(create);
        _create = create;
        _fetchPassword = fetchPassword;
        _log = log;
        _time = time;
        _current = new Current(create(password), password);
    }

    /// <summary>How many times the secret was fetched again.</summary>
    public int Refetches { get; private set; }

    public Task<InsertResult> InsertAsync(string insertSql, IReadOnlyList<ReadOnlyMemory<byte>> body, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken) =>
        CallAsync(g => g.InsertAsync(insertSql, body, settings, cancellationToken), cancellationToken);

    public Task<byte[]> QueryAsync(string sql, CancellationToken cancellationToken) =>
        CallAsync(g => g.QueryAsync(sql, cancellationToken), cancellationToken);

    public Task ExecuteAsync(string sql, CancellationToken cancellationToken) =>
        CallAsync(async g => { await g.ExecuteAsync(sql, cancellationToken); return true; }, cancellationToken);

    public Task ExecuteAsync(string sql, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken) =>
        CallAsync(async g => { await g.ExecuteAsync(sql, settings, cancellationToken); return true; }, cancellationToken);

    public void Dispose()
    {
        (_current.Gateway as IDisposable)?.Dispose();
        foreach (var g in _retired)
        {
            (g as IDisposable)?.Dispose();
        }

        _refreshing.Dispose();
    }

    private async Task<T> CallAsync<T>(Func<IClickHouseGateway, Task<T>> call, CancellationToken cancellationToken)
    {
        var used = _current;
        try
        {
            return await call(used.Gateway);
        }
        catch (ClickHouseException e) when (e.Kind == ClickHouseErrorKind.Auth)
        {
            var fresh = await RefreshAsync(used, e, cancellationToken);
            if (fresh is null)
            {
                throw;
            }

            return await call(fresh.Gateway);
        }
    }

    /// <summary>A client with a newer password than <paramref name="used"/>'s, or null when the secret did not change.</summary>
    private async Task<Current?> RefreshAsync(Current used, ClickHouseException failure, CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            if (!ReferenceEquals(_current, used))
            {
                return _current; // another call already rotated the client
            }

            if (_time.GetUtcNow() - _lastFetch < RefetchInterval)
            {
                return null;
            }

            _lastFetch = _time.GetUtcNow();
            Refetches++;
            string password;
            try
            {
                password = await _fetchPassword(cancellationToken);
            }
            catch (Exception e) when (e is Errors.SinkException or HttpRequestException)
            {
                _log.Write(LogLevel.Error, $"ClickHouse refused the password and fetching the secret again failed: {e.Message}", new LogFields(ErrorCode: failure.ServerCode));
                return null;
            }

            if (password == used.Password)
            {
                _log.Write(LogLevel.Error, "ClickHouse refused the password and the secret still holds the same one: fix the secret or the ClickHouse user", new LogFields(ErrorCode: failure.ServerCode));
                return null;
            }

            _log.Write(LogLevel.Warning, "ClickHouse refused the password: the secret was rotated, reconnecting with the new one", new LogFields(ErrorCode: failure.ServerCode));
            _retired.Add(used.Gateway); // requests may still be in flight on it: disposed with this gateway
            _current = new Current(_create(password), password);
            return _current;
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private sealed record Current(IClickHouseGateway Gateway, string? Password)
    {
        /// <summary>Never print the password.</summary>
        public override string ToString() => "Current { Password = *** }";
    }
}
