using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Delivery.State;

/// <summary>The recorded states of an invocation's partitions, for one source.</summary>
/// <param name="States">This source's state per partition (or an adopted state written before sources existed).</param>
/// <param name="SharedWithOtherSources">Partitions another source (same sink id, same topic name) also records.</param>
public sealed record StateSnapshot(IReadOnlyDictionary<PartitionKey, PartitionState> States, IReadOnlySet<PartitionKey> SharedWithOtherSources)
{
    public static StateSnapshot Empty { get; } = new(new Dictionary<PartitionKey, PartitionState>(), new HashSet<PartitionKey>());
}

/// <summary>Reads and records the per-partition delivery state.</summary>
public interface IStateStore
{
    /// <summary>Read-after-write: sees every state write acknowledged before it (docs/exactly-once.md, per engine).</summary>
    Task<StateSnapshot> LoadAsync(SourceIdentity source, IReadOnlyCollection<PartitionKey> keys, CancellationToken cancellationToken);

    /// <summary>
    /// The version of a new state write, taken once before the write is sent so that every retry of it carries the same
    /// version and the same plan-record key (a retry after a lost answer is then recognised as the same write). Above
    /// every version this store read or wrote; planned from this process's <see cref="StateCache"/>, it is
    /// <paramref name="basedOnVersion"/> + 1 instead: just above the cached write and below every write of anyone who
    /// read it (their versions are at least 2 above what they read), so a state another writer recorded since the cached
    /// one keeps winning over this one.
    /// </summary>
    /// <param name="basedOnVersion">The cached version the write is planned from; 0 when it was planned from a read.</param>
    long NewVersion(long basedOnVersion = 0);

    /// <summary>
    /// Records the states of an invocation's partitions in one insert of <paramref name="version"/> (from
    /// <see cref="NewVersion"/>). Fenced: the server keeps a partition's rows only if its newest recorded version is still
    /// <see cref="StateWrite.Expected"/> when it applies the insert; whether it did is read back with
    /// <see cref="ConcurrentPlansAsync"/>.
    /// </summary>
    Task SaveAsync(SourceIdentity source, IReadOnlyCollection<StateWrite> writes, long version, CancellationToken cancellationToken);

    /// <summary>
    /// The newest different plan another invocation recorded, per partition, since <paramref name="planned"/>'s states
    /// were loaded (two pollers delivering different batches of one partition at once), and whether our own write of
    /// <paramref name="ownVersion"/> was applied; read after our own write.
    /// </summary>
    /// <param name="evenSamePlan">Planned from the <see cref="StateCache"/>: any plan another writer recorded since is a
    /// conflict, even one equal to ours (the cache did not see it, so ours may skip a fill or a replay it needs).</param>
    Task<PlanReadBack> ConcurrentPlansAsync(SourceIdentity source, IReadOnlyCollection<(PartitionState Planned, long LoadedVersion)> planned, long ownVersion, bool evenSamePlan, CancellationToken cancellationToken);
}

/// <summary>
/// The state table: a ReplacingMergeTree keyed (sink_id, topic, partition, source), read with FINAL, newest version wins.
/// Every read asks for sequential consistency, and on a Replicated* engine every write asks for a quorum, so a read
/// sees every acknowledged write whichever replica serves it. Every write is fenced (<see cref="StateFence"/>): the server
/// keeps a partition's rows only while its newest version is still the one the write is based on.
/// </summary>
public sealed class ClickHouseStateStore : IStateStore
{
    /// <summary>Sent with every read that decides what to insert; MergeTree accepts and ignores it (recorded in a test).</summary>
    public const string SequentialConsistency = "select_sequential_consistency = 1";

    private readonly IClickHouseGateway _gateway;
    private readonly TableName _table;
    private readonly StateFence _fence;
    private readonly string _sinkId;
    private readonly TimeProvider _time;
    private readonly string _writer = Guid.NewGuid().ToString("N")[..16];
    private long _lastVersion;
    private IReadOnlyDictionary<string, string> _writeSettings = WriteSettingsFor(string.Empty);

    public ClickHouseStateStore(IClickHouseGateway gateway, TableName table, string sinkId, TimeProvider time)
    {
        _gateway = gateway;
        _table = table;
        _fence = new StateFence(table, sinkId);
        _sinkId = sinkId;
        _time = time;
    }

    /// <summary>The state table's engine, as found at start-up (empty before <see cref="EnsureCreatedAsync"/>).</summary>
    public string Engine { get; private set; } = string.Empty;

    public static string CreateTableSql(TableName table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return $"""
            CREATE TABLE IF NOT EXISTS {table.Sql} ({StateFence.ColumnDefinitions})
            ENGINE = ReplacingMergeTree(version)
            ORDER BY (sink_id, topic, partition, source)
            {IntentTtl}
            """;
    }

    /// <summary>
    /// Plan records (one per partition per save, see <see cref="IntentSource"/>) are only read by invocations running at
    /// the same time as their writer; a day later they are deleted by the table's TTL (state rows are never).
    /// </summary>
    internal const string IntentTtl = "TTL toDateTime(updated_at) + INTERVAL 1 DAY DELETE WHERE position(source, '" + IntentMark + "') > 0";

    /// <summary>Marks a plan record's source: <c>&lt;source&gt;#plan@&lt;version&gt;.&lt;writer&gt;</c>; no source name holds it (ARNs and host lists have no '#').</summary>
    internal const string IntentMark = "#plan@";

    /// <summary>The source column of the plan record written with a state row of <paramref name="version"/> by this store.</summary>
    internal string IntentSource(SourceIdentity source, long version) =>
        string.Create(CultureInfo.InvariantCulture, $"{source.Name}{IntentMark}{version}.{_writer}");

    /// <summary>
    /// Brings a state table created by an earlier version (no source, nonce, rounds; keyed without source) to this one.
    /// The source must be in the sorting key or FINAL would merge two sources' rows; ClickHouse allows appending a
    /// column to ORDER BY only in the ALTER that adds it, and only without a DEFAULT expression (code 36 otherwise).
    /// Old rows read source = '' and are adopted by the first source that meets them (docs/exactly-once.md).
    /// </summary>
    public static string MigrateSql(TableName table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return $"ALTER TABLE {table.Sql} ADD COLUMN IF NOT EXISTS source String AFTER sink_id, ADD COLUMN IF NOT EXISTS nonce UInt64 AFTER generation, " +
            "ADD COLUMN IF NOT EXISTS rounds Array(UInt32) AFTER entries, MODIFY ORDER BY (sink_id, topic, partition, source)";
    }

    /// <summary>Creates the table if missing, migrates an earlier version's table, and learns its engine.</summary>
    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        await _gateway.ExecuteAsync(CreateTableSql(_table), cancellationToken);
        var bytes = await _gateway.QueryAsync(
            $"SELECT engine, sorting_key, create_table_query FROM system.tables WHERE database = {SqlIdentifier.Literal(_table.Database)} AND name = {SqlIdentifier.Literal(_table.Table)} FORMAT JSONEachRow",
            cancellationToken);
        foreach (var line in ((ReadOnlyMemory<byte>)bytes).Split())
        {
            using var doc = JsonDocument.Parse(line);
            Engine = doc.RootElement.GetProperty("engine").GetString() ?? string.Empty;
            var sortingKey = doc.RootElement.GetProperty("sorting_key").GetString() ?? string.Empty;
            if (!sortingKey.Contains("source", StringComparison.Ordinal))
            {
                await _gateway.ExecuteAsync(MigrateSql(_table), cancellationToken);
            }

            if (doc.RootElement.GetProperty("create_table_query").GetString() is { } create && !create.Contains(IntentMark, StringComparison.Ordinal))
            {
                // A table created before plan records: their TTL (a metadata change; nothing is rewritten).
                await _gateway.ExecuteAsync($"ALTER TABLE {_table.Sql} MODIFY {IntentTtl} SETTINGS materialize_ttl_after_modify = 0", cancellationToken);
            }

            if (doc.RootElement.GetProperty("create_table_query").GetString() is { } created && !created.Contains(RangeCountsColumn, StringComparison.Ordinal))
            {
                // A table created before range counts (read by the audit only): old rows read [] and are not audited.
                await _gateway.ExecuteAsync($"ALTER TABLE {_table.Sql} ADD COLUMN IF NOT EXISTS {RangeCountsColumn} Array(Tuple(records Int32, skipped Int32)) AFTER rounds", cancellationToken);
            }

            if (doc.RootElement.GetProperty("create_table_query").GetString() is { } marked && !marked.Contains(WindowMarksColumn, StringComparison.Ordinal))
            {
                // A table created before insert groups and window marks: old rows read [] (no entry was sent in a group;
                // their tokens' place in the window is not known and they are trusted, as before).
                await _gateway.ExecuteAsync(
                    $"ALTER TABLE {_table.Sql} ADD COLUMN IF NOT EXISTS {GroupsColumn} Array(UInt64) AFTER {RangeCountsColumn}, " +
                    $"ADD COLUMN IF NOT EXISTS {WindowMarksColumn} Array(Tuple(block Int64, at Int64)) AFTER {GroupsColumn}",
                    cancellationToken);
            }
        }

        _writeSettings = WriteSettingsFor(Engine);
    }

    /// <summary>Per entry, what its range held (<see cref="RangeCount"/>; -1: not known), parallel to entries like rounds.</summary>
    internal const string RangeCountsColumn = "range_counts";

    /// <summary>Per entry, the insert group its range went out in (<see cref="StateEntry.Group"/>; 0: none), parallel to entries.</summary>
    internal const string GroupsColumn = "insert_groups";

    /// <summary>Per entry, its token's place against the table's deduplication window (<see cref="StateEntry.Mark"/>; -1: not known).</summary>
    internal const string WindowMarksColumn = "window_marks";

    /// <summary>
    /// A Replicated* state table needs a quorum on writes for select_sequential_consistency to mean read-after-write;
    /// SharedMergeTree (ClickHouse Cloud) gives it to sequentially consistent reads without one. The fence's read of the
    /// newest version is sequentially consistent like every read that decides what to insert.
    /// </summary>
    internal static IReadOnlyDictionary<string, string> WriteSettingsFor(string engine)
    {
        var settings = new Dictionary<string, string>
        {
            ["async_insert"] = "0",
            ["insert_deduplicate"] = "0",
            ["date_time_input_format"] = "best_effort",
            ["select_sequential_consistency"] = "1",
            ["join_use_nulls"] = "0",
        };
        if (engine.StartsWith("Replicated", StringComparison.Ordinal))
        {
            settings["insert_quorum"] = "auto";
        }

        return settings;
    }

    public async Task<StateSnapshot> LoadAsync(SourceIdentity source, IReadOnlyCollection<PartitionKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return StateSnapshot.Empty;
        }

        var own = new Dictionary<PartitionKey, PartitionState>();
        var legacy = new Dictionary<PartitionKey, PartitionState>();
        var others = new HashSet<PartitionKey>();
        var sql =
            $"SELECT topic, partition, source, {StateRowFormat.PlanColumns} " +
            $"FROM {_table.Sql} FINAL WHERE sink_id = {SqlIdentifier.Literal(_sinkId)} AND (topic, partition) IN ({StateRowFormat.Pairs(keys)}) AND position(source, '{IntentMark}') = 0 " +
            $"SETTINGS {SequentialConsistency} FORMAT JSONEachRow";
        var bytes = await _gateway.QueryAsync(sql, cancellationToken);
        foreach (var line in ((ReadOnlyMemory<byte>)bytes).Split())
        {
            using var doc = JsonDocument.Parse(line);
            var row = doc.RootElement;
            var key = new PartitionKey(row.GetProperty("topic").GetString()!, row.GetProperty("partition").GetInt32());
            var rowSource = row.GetProperty("source").GetString() ?? string.Empty;
            if (rowSource.Length > 0 && rowSource != source.Name)
            {
                others.Add(key);
                continue;
            }

            var state = StateRowFormat.PlanOf(row, key, legacy: rowSource.Length == 0);
            (rowSource.Length == 0 ? legacy : own)[key] = state;
            Observe(state.Version);
        }

        // A row written before sources existed is adopted by the source that has none of its own yet.
        foreach (var (key, state) in legacy)
        {
            own.TryAdd(key, state);
        }

        return new StateSnapshot(own, others);
    }

    public long NewVersion(long basedOnVersion = 0)
    {
        if (basedOnVersion <= 0)
        {
            return NextVersion(_time.GetUtcNow());
        }

        Observe(basedOnVersion + 1);
        return basedOnVersion + 1;
    }

    public async Task SaveAsync(SourceIdentity source, IReadOnlyCollection<StateWrite> writes, long version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(writes);
        if (writes.Count == 0)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var rows = new ArrayBufferWriter<byte>(256 * writes.Count);
        // Each partition gets its state row and a plan record of the same content under a key of its own, which no
        // merge folds into a later row: the concurrent-plan check reads the plan records (a ReplacingMergeTree merge
        // may drop an older state row before another invocation's check reads it, which would hide that plan). Both
        // carry the write's expectation: the fence keeps or drops them together.
        foreach (var w in writes)
        {
            StateRowFormat.WriteRow(rows, _sinkId, w.State, source.Name, now, version, w.Expected);
            StateRowFormat.WriteRow(rows, _sinkId, w.State, IntentSource(source, version), now, version, w.Expected);
        }

        var sql = _fence.InsertSql(source, writes.Select(w => w.State.Key), rows.WrittenSpan);
        await _gateway.ExecuteAsync(sql, StateFence.Settings(sql, _writeSettings), cancellationToken);
    }

    public async Task<PlanReadBack> ConcurrentPlansAsync(SourceIdentity source, IReadOnlyCollection<(PartitionState Planned, long LoadedVersion)> planned, long ownVersion, bool evenSamePlan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(planned);
        var conflicts = new Dictionary<PartitionKey, PartitionState>();
        var recorded = new HashSet<PartitionKey>();
        var explained = new HashSet<PartitionKey>();
        if (planned.Count == 0)
        {
            return new PlanReadBack(conflicts, recorded, new HashSet<PartitionKey>());
        }

        var byKey = planned.ToDictionary(p => p.Planned.Key);
        var since = planned.Min(p => p.LoadedVersion);
        var own = IntentSource(source, ownVersion);

        // Every plan written since ours were loaded, not only the newest: ours may be the newest and hide theirs. Read
        // from the plan records, never from the state rows: a background merge keeps only the newest state row of a key,
        // so an earlier writer's row may be gone by the time we read (that hid a concurrent plan: docs/exactly-once.md).
        // Ours is told apart by its record's key, not by its version (another process may pick the same version); it is
        // there only if the fence let our write through.
        var sql =
            $"SELECT topic, partition, source, {StateRowFormat.PlanColumns} FROM {_table.Sql} " +
            $"WHERE sink_id = {SqlIdentifier.Literal(_sinkId)} AND startsWith(source, {SqlIdentifier.Literal(source.Name + IntentMark)}) AND (topic, partition) IN ({StateRowFormat.Pairs(byKey.Keys)}) " +
            PlanKeyRange(source, since) +
            $"AND (version > {since.ToString(CultureInfo.InvariantCulture)} OR source = {SqlIdentifier.Literal(own)}) " +
            $"SETTINGS {SequentialConsistency} FORMAT JSONEachRow";
        var bytes = await _gateway.QueryAsync(sql, cancellationToken);
        foreach (var line in ((ReadOnlyMemory<byte>)bytes).Split())
        {
            using var doc = JsonDocument.Parse(line);
            var row = doc.RootElement;
            var key = new PartitionKey(row.GetProperty("topic").GetString()!, row.GetProperty("partition").GetInt32());
            if (!byKey.TryGetValue(key, out var mine))
            {
                continue;
            }

            if (row.GetProperty("source").GetString() == own)
            {
                recorded.Add(key);
                continue;
            }

            var version = (long)StateRowFormat.Number(row.GetProperty("version"));
            if (version <= mine.LoadedVersion)
            {
                continue;
            }

            explained.Add(key);
            var theirs = StateRowFormat.PlanOf(row, key, mine.Planned.Legacy);
            if ((evenSamePlan || !mine.Planned.SamePlanAs(theirs)) && (!conflicts.TryGetValue(key, out var seen) || seen.Version < version))
            {
                conflicts[key] = theirs;
            }
        }

        var notApplied = byKey.Keys.Where(k => !recorded.Contains(k) && !explained.Contains(k)).ToHashSet();
        return new PlanReadBack(conflicts, recorded, notApplied);
    }

    /// <summary>
    /// The plan records written since <paramref name="since"/> as a range of the sorting key: <c>version</c> is not in
    /// it (ORDER BY sink_id, topic, partition, source; changing that would rewrite every deployed state table), but a
    /// plan record's <c>source</c> is <c>&lt;source&gt;#plan@&lt;version&gt;.&lt;writer&gt;</c>, and versions from a clock
    /// (microseconds since 1970: 16 digits from 2001 to 2286) order as text the way they order as numbers. So the read
    /// skips the day of older records by key, with no change to existing tables. Smaller versions (a test clock near
    /// 1970) are not of one width: no range, the version filter alone.
    /// </summary>
    internal static string PlanKeyRange(SourceIdentity source, long since) =>
        since is >= 1_000_000_000_000_000 and <= 9_999_999_999_999_999
            ? $"AND source > {SqlIdentifier.Literal(source.Name + IntentMark + since.ToString(CultureInfo.InvariantCulture))} "
            : string.Empty;

    /// <summary>
    /// Versions written later are above every version read: another instance's clock may run ahead of ours, and a
    /// lower version would lose to the row it replaces.
    /// </summary>
    private void Observe(long version)
    {
        long last;
        do
        {
            last = Interlocked.Read(ref _lastVersion);
            if (version <= last)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _lastVersion, version, last) != last);
    }

    /// <summary>
    /// Microseconds since the epoch, strictly increasing within this process and at least 2 above every version read or
    /// written: the version just above a read one is left to a write planned from the <see cref="StateCache"/>, which
    /// must lose to every write made by anyone who read that version (docs/exactly-once.md, the in-process state cache).
    /// </summary>
    private long NextVersion(DateTimeOffset now)
    {
        var micros = now.ToUnixTimeMilliseconds() * 1000;
        long last, next;
        do
        {
            last = Interlocked.Read(ref _lastVersion);
            next = Math.Max(micros, last + 2);
        }
        while (Interlocked.CompareExchange(ref _lastVersion, next, last) != last);
        return next;
    }
}
