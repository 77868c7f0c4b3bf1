namespace MskClickHouse.EmbeddedClickHouse.Chdb;

/// <summary>
/// Applies one request's database and settings to the shared session and undoes them on dispose,
/// so nothing a request asked for reaches the next one. Query parameters ({x:Type}) are not part of
/// this: they are bound per call by chdb_query_with_params_n.
/// </summary>
internal sealed class RequestScope : IDisposable
{
    private readonly ChdbEngine.Lease _lease;
    private readonly SessionBaseline _baseline;
    private readonly List<string> _appliedSettings = [];
    private bool _databaseChanged;

    private RequestScope(ChdbEngine.Lease lease, SessionBaseline baseline)
    {
        _lease = lease;
        _baseline = baseline;
    }

    public static RequestScope Enter(
        ChdbEngine.Lease lease,
        SessionBaseline baseline,
        string? database,
        IReadOnlyList<KeyValuePair<string, string>> settings)
    {
        var scope = new RequestScope(lease, baseline);
        try
        {
            scope.Apply(database, settings);
        }
        catch
        {
            scope.Dispose();
            throw;
        }

        return scope;
    }

    public void Dispose()
    {
        if (_appliedSettings.Count > 0)
        {
            try
            {
                _lease.Execute("SET " + string.Join(", ", _appliedSettings.Select(Restore)));
            }
            catch (ChdbException)
            {
                // One name was unknown (the request failed on it): restore the others one by one.
                foreach (var setting in _appliedSettings)
                {
                    TryExecute("SET " + Restore(setting));
                }
            }

            _appliedSettings.Clear();
        }

        if (_databaseChanged)
        {
            _lease.Execute("USE " + SqlText.QuoteIdentifier(SessionBaseline.DefaultDatabase));
            _databaseChanged = false;
        }
    }

    private string Restore(string setting) => $"{setting} = {_baseline.RestoreValue(setting)}";

    private void TryExecute(string sql)
    {
        try
        {
            _lease.Execute(sql);
        }
        catch (ChdbException)
        {
            // Unknown setting: there is nothing to restore.
        }
    }

    private void Apply(string? database, IReadOnlyList<KeyValuePair<string, string>> settings)
    {
        if (!string.IsNullOrEmpty(database) && database != SessionBaseline.DefaultDatabase)
        {
            _lease.Execute("USE " + SqlText.QuoteIdentifier(database));
            _databaseChanged = true;
        }

        foreach (var (name, _) in settings)
        {
            if (!SqlText.IsSettingName(name))
            {
                throw new ChdbException(115, $"Code: 115. DB::Exception: Unknown setting '{name}'. (UNKNOWN_SETTING)");
            }
        }

        if (settings.Count == 0)
        {
            return;
        }

        // Record first: a SET that fails half way still gets every name restored.
        _appliedSettings.AddRange(settings.Select(s => s.Key).Distinct(StringComparer.Ordinal));
        _lease.Execute("SET " + string.Join(", ", settings.Select(s => $"{s.Key} = {SqlText.Quote(s.Value)}")));
    }
}
