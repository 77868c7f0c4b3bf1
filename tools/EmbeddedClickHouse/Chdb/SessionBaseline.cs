namespace MskClickHouse.EmbeddedClickHouse.Chdb;

/// <summary>
/// What the shared chDB session looks like between requests: the settings chDB itself changed from
/// ClickHouse's defaults (chDB turns on async_insert, for one), the server timezone and the
/// current database. Per-request scopes return the session to exactly this state.
/// </summary>
internal sealed class SessionBaseline
{
    public const string DefaultDatabase = "default";

    private readonly Dictionary<string, string> _changedSettings;

    private SessionBaseline(Dictionary<string, string> changedSettings, string timezone)
    {
        _changedSettings = changedSettings;
        Timezone = timezone;
    }

    public string Timezone { get; }

    public static SessionBaseline Capture(ChdbEngine.Lease lease)
    {
        var changed = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var result = lease.Query("SELECT name, value FROM system.settings WHERE changed", "TabSeparatedRaw"))
        {
            foreach (var line in result.ReadAllText().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var tab = line.IndexOf('\t', StringComparison.Ordinal);
                changed[line[..tab]] = line[(tab + 1)..];
            }
        }

        using var timezone = lease.Query("SELECT timezone()", "TabSeparatedRaw");
        return new SessionBaseline(changed, timezone.ReadAllText().Trim());
    }

    /// <summary>The SQL value that puts <paramref name="setting"/> back to its between-requests value.</summary>
    public string RestoreValue(string setting) =>
        _changedSettings.TryGetValue(setting, out var value) ? SqlText.Quote(value) : "DEFAULT";
}
