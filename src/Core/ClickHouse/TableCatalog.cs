using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MskClickHouse.Core.ClickHouse;

/// <summary>What the sink needs to know about a target table.</summary>
/// <param name="DeduplicationWindow">How many recent blocks' tokens the table remembers (0: it drops no retried insert).</param>
/// <param name="DeduplicationWindowSeconds">For replicated/shared engines, how long it remembers them; null otherwise.</param>
public sealed record TableInfo(TableName Table, bool Exists, IReadOnlyList<string> Columns, string Engine, long DeduplicationWindow = 0, long? DeduplicationWindowSeconds = null)
{
    public bool CanDeduplicate => DeduplicationWindow > 0;

    /// <summary>The highest block number of the table's parts when it was read (an insert counter; -1: not known).</summary>
    public long BlockNumber { get; init; } = -1;

    /// <summary>The views an insert into the table also feeds (materialized or not).</summary>
    public IReadOnlyList<DependentView> Views { get; init; } = [];

    /// <summary>Whether a read right after an insert sees its rows (<see cref="TableEngines.StoresRows"/>).</summary>
    public bool StoresRows => TableEngines.StoresRows(Engine);

    /// <summary>Whether an insert also writes through materialized views: its answer then does not say what landed where.</summary>
    public bool HasMaterializedViews => Views.Any(v => v.IsMaterialized);

    /// <summary>
    /// For a table that keeps no rows (a Null landing table) fed into exactly one view and nothing else, where that view
    /// passes the offset columns through unchanged (<see cref="DependentView.PassesOffsetsThrough"/>): the table the
    /// view writes to, which can answer for this one. Null otherwise. Whether that table keeps rows is its own entry's.
    /// </summary>
    public TableName? StoredBehind => !StoresRows && Views is [{ PassesOffsetsThrough: true } only] ? only.Target : null;
}

/// <summary>
/// Discovers tables' columns, engines, deduplication windows and dependent views (one query per table) and caches them
/// for <see cref="RefreshInterval"/>, so a view created or dropped while the process lives is seen within it.
/// </summary>
public sealed partial class TableCatalog
{
    /// <summary>The settings that size a table's deduplication window, read from the table and from the server's defaults.</summary>
    private const string WindowSettings = "('non_replicated_deduplication_window', 'replicated_deduplication_window', 'replicated_deduplication_window_seconds')";

    /// <summary>How long a table's entry is used before it is read again.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(1);

    private readonly IClickHouseGateway _gateway;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<TableName, Entry> _cache = new();

    public TableCatalog(IClickHouseGateway gateway, TimeProvider? time = null)
    {
        _gateway = gateway;
        _time = time ?? TimeProvider.System;
    }

    public Task<TableInfo> GetAsync(TableName table, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var entry = _cache.AddOrUpdate(
            table,
            t => new Entry(new Lazy<Task<TableInfo>>(() => LoadAsync(t, cancellationToken)), now),
            (t, old) => now - old.LoadedAt >= RefreshInterval ? new Entry(new Lazy<Task<TableInfo>>(() => LoadAsync(t, cancellationToken)), now) : old);
        var task = entry.Info.Value;
        if (task.IsFaulted || task.IsCanceled)
        {
            // Do not cache a failure (e.g. ClickHouse briefly unreachable): the next call asks again.
            _cache.TryRemove(new KeyValuePair<TableName, Entry>(table, entry));
        }

        return task;
    }

    /// <summary>Forgets a table (after it was found missing, so that creating it takes effect without a cold start).</summary>
    public void Forget(TableName table) => _cache.TryRemove(table, out _);

    /// <summary>Whether an engine and its settings let ClickHouse drop a repeated insert_deduplication_token.</summary>
    public static bool EngineDeduplicates(string engine, string createQuery) =>
        Window(engine, createQuery, new Dictionary<string, long>()).Blocks > 0;

    /// <summary>
    /// The deduplication window of a table: a SETTINGS clause in its CREATE query wins over the server's MergeTree
    /// defaults (system.merge_tree_settings). Replicated*/Shared* engines use replicated_deduplication_window(_seconds)
    /// (default 10000 blocks / 3600 s in ClickHouse 26.7; SharedMergeTree reads the same settings), plain *MergeTree
    /// non_replicated_deduplication_window (default 0: nothing is deduplicated). Other engines never deduplicate.
    /// </summary>
    public static (long Blocks, long? Seconds) Window(string engine, string createQuery, IReadOnlyDictionary<string, long> serverDefaults)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(createQuery);
        ArgumentNullException.ThrowIfNull(serverDefaults);
        long Setting(string name, long fallback)
        {
            foreach (Match m in SettingAssignment().Matches(createQuery))
            {
                if (m.Groups[1].Value == name && long.TryParse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                {
                    return v;
                }
            }

            return serverDefaults.TryGetValue(name, out var d) ? d : fallback;
        }

        if (engine.StartsWith("Replicated", StringComparison.Ordinal) || engine.StartsWith("Shared", StringComparison.Ordinal))
        {
            return (Setting("replicated_deduplication_window", 10000), Setting("replicated_deduplication_window_seconds", 3600));
        }

        return engine.EndsWith("MergeTree", StringComparison.Ordinal) ? (Setting("non_replicated_deduplication_window", 0), null) : (0, null);
    }

    private async Task<TableInfo> LoadAsync(TableName table, CancellationToken cancellationToken)
    {
        var db = SqlIdentifier.Literal(table.Database);
        var name = SqlIdentifier.Literal(table.Table);
        var sql =
            $"SELECT engine, create_table_query, " +
            $"(SELECT groupArray(name) FROM (SELECT name FROM system.columns WHERE database = {db} AND table = {name} ORDER BY position)) AS columns, " +
            $"(SELECT groupArray((name, value)) FROM system.merge_tree_settings WHERE name IN {WindowSettings}) AS defaults, " +
            $"(SELECT max(max_block_number) FROM system.parts WHERE database = {db} AND table = {name}) AS block_number, " +
            $"(SELECT groupArray((database, name, engine, target_database, target_table, as_select)) FROM system.tables WHERE (database, name) IN " +
            $"(SELECT arrayJoin(arrayZip(dependencies_database, dependencies_table)) FROM system.tables WHERE database = {db} AND name = {name})) AS views " +
            $"FROM system.tables WHERE database = {db} AND name = {name} FORMAT JSONEachRow";
        var bytes = await _gateway.QueryAsync(sql, cancellationToken);
        if (bytes.AsSpan().Trim((byte)'\n').IsEmpty)
        {
            return new TableInfo(table, false, [], string.Empty);
        }

        using var doc = JsonDocument.Parse(bytes.AsMemory().TrimEnd((byte)'\n'));
        var root = doc.RootElement;
        var engine = root.GetProperty("engine").GetString() ?? string.Empty;
        var create = root.GetProperty("create_table_query").GetString() ?? string.Empty;
        var columns = root.GetProperty("columns").EnumerateArray().Select(c => c.GetString() ?? string.Empty).ToArray();
        var defaults = new Dictionary<string, long>(StringComparer.Ordinal);
        if (root.TryGetProperty("defaults", out var pairs) && pairs.ValueKind == JsonValueKind.Array)
        {
            foreach (var pair in pairs.EnumerateArray())
            {
                // A tuple is written as a JSON array [name, value]; the value is a string.
                if (pair.ValueKind == JsonValueKind.Array && pair.GetArrayLength() == 2
                    && long.TryParse(pair[1].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                {
                    defaults[pair[0].GetString() ?? string.Empty] = v;
                }
            }
        }

        var (blocks, seconds) = Window(engine, create, defaults);
        var blockNumber = root.TryGetProperty("block_number", out var b) ? long.Parse(b.ValueKind == JsonValueKind.String ? b.GetString()! : b.GetRawText(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : -1;
        return new TableInfo(table, true, columns, engine, blocks, seconds) { Views = ViewsOf(root), BlockNumber = blockNumber };
    }

    /// <summary>The views of the answer: each a JSON array [database, name, engine, target_database, target_table, as_select].</summary>
    private static DependentView[] ViewsOf(JsonElement root)
    {
        if (!root.TryGetProperty("views", out var views) || views.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        return views.EnumerateArray()
            .Where(v => v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 6)
            .Select(v =>
            {
                var targetDb = v[3].GetString() ?? string.Empty;
                var targetTable = v[4].GetString() ?? string.Empty;
                var target = targetDb.Length > 0 && targetTable.Length > 0 ? new TableName(targetDb, targetTable) : null;
                return new DependentView(new TableName(v[0].GetString() ?? string.Empty, v[1].GetString() ?? string.Empty), v[2].GetString() ?? string.Empty, target, v[5].GetString() ?? string.Empty);
            })
            .OrderBy(v => v.View.ToString(), StringComparer.Ordinal)
            .ToArray();
    }

    private sealed record Entry(Lazy<Task<TableInfo>> Info, DateTimeOffset LoadedAt);

    [GeneratedRegex(@"\b(non_replicated_deduplication_window|replicated_deduplication_window|replicated_deduplication_window_seconds)\s*=\s*(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex SettingAssignment();
}
