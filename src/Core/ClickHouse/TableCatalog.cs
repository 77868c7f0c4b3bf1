using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using MskClickHouse.Core.Routing;

namespace MskClickHouse.Core.ClickHouse;

/// <summary>What the sink needs to know about a target table.</summary>
public sealed record TableInfo(TableName Table, bool Exists, IReadOnlyList<string> Columns, string Engine, bool CanDeduplicate);

/// <summary>Discovers tables' columns and engines once per cold start (one query per table) and caches them.</summary>
public sealed partial class TableCatalog
{
    private readonly IClickHouseGateway _gateway;
    private readonly ConcurrentDictionary<TableName, Lazy<Task<TableInfo>>> _cache = new();

    public TableCatalog(IClickHouseGateway gateway)
    {
        _gateway = gateway;
    }

    public Task<TableInfo> GetAsync(TableName table, CancellationToken cancellationToken)
    {
        var lazy = _cache.GetOrAdd(table, t => new Lazy<Task<TableInfo>>(() => LoadAsync(t, cancellationToken)));
        var task = lazy.Value;
        if (task.IsFaulted || task.IsCanceled)
        {
            // Do not cache a failure (e.g. ClickHouse briefly unreachable): the next call asks again.
            _cache.TryRemove(new KeyValuePair<TableName, Lazy<Task<TableInfo>>>(table, lazy));
        }

        return task;
    }

    /// <summary>Forgets a table (after it was found missing, so that creating it takes effect without a cold start).</summary>
    public void Forget(TableName table) => _cache.TryRemove(table, out _);

    /// <summary>Whether an engine and its settings let ClickHouse drop a repeated insert_deduplication_token.</summary>
    public static bool EngineDeduplicates(string engine, string createQuery)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(createQuery);
        if (engine.StartsWith("Replicated", StringComparison.Ordinal) || engine.StartsWith("Shared", StringComparison.Ordinal))
        {
            return true;
        }

        if (!engine.EndsWith("MergeTree", StringComparison.Ordinal))
        {
            return false;
        }

        var m = DedupWindow().Match(createQuery);
        return m.Success && m.Groups[1].Value != "0";
    }

    private async Task<TableInfo> LoadAsync(TableName table, CancellationToken cancellationToken)
    {
        var db = SqlIdentifier.Literal(table.Database);
        var name = SqlIdentifier.Literal(table.Table);
        var sql =
            $"SELECT engine, create_table_query, " +
            $"(SELECT groupArray(name) FROM (SELECT name FROM system.columns WHERE database = {db} AND table = {name} ORDER BY position)) AS columns " +
            $"FROM system.tables WHERE database = {db} AND name = {name} FORMAT JSONEachRow";
        var bytes = await _gateway.QueryAsync(sql, cancellationToken);
        if (bytes.AsSpan().Trim((byte)'\n').IsEmpty)
        {
            return new TableInfo(table, false, [], string.Empty, false);
        }

        using var doc = JsonDocument.Parse(bytes.AsMemory().TrimEnd((byte)'\n'));
        var root = doc.RootElement;
        var engine = root.GetProperty("engine").GetString() ?? string.Empty;
        var create = root.GetProperty("create_table_query").GetString() ?? string.Empty;
        var columns = root.GetProperty("columns").EnumerateArray().Select(c => c.GetString() ?? string.Empty).ToArray();
        return new TableInfo(table, true, columns, engine, EngineDeduplicates(engine, create));
    }

    [GeneratedRegex(@"non_replicated_deduplication_window\s*=\s*(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex DedupWindow();
}
