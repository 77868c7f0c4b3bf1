namespace MskClickHouse.LocalRun;

/// <summary>The engine of the run: the one at --clickhouse-url, else the embedded chDB server; a failure says what to fix.</summary>
internal static class EngineStart
{
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
            try
            {
                return await ClickHouseEngine.ConnectAsync(url, user, password, ct);
            }
            catch (HttpRequestException e) when (e is not EngineQueryException)
            {
                throw new LocalRunException($"ClickHouse at {url} is unreachable: {e.Message}");
            }
        }

        await error.WriteLineAsync("starting the embedded ClickHouse (chDB) ...");
        try
        {
            return await ClickHouseEngine.StartEmbeddedAsync(cancellationToken: ct);
        }
        catch (Exception e) when (e is InvalidOperationException or FileNotFoundException)
        {
            throw new LocalRunException($"the embedded ClickHouse did not start (is CHDB_LIB set? run.sh sets it): {e.Message}");
        }
    }
}
