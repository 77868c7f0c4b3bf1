using System.Collections.Frozen;
using MskClickHouse.Core.Configuration;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// The settings of every data insert. Pinned so that a retry of the same unit is parsed the same way and forms one
/// block that carries its deduplication token; the user's CLICKHOUSE_SETTINGS come first and cannot override them.
/// <c>async_insert</c> follows the insert's <see cref="InsertMode"/>: only data inserts into target tables that allow it
/// are asynchronous (<see cref="InsertModeChoice"/>); dead letters, probes and dry runs are synchronous.
/// </summary>
public static class InsertSettings
{
    /// <summary>Bodies above this size are parsed single-threaded so that "(at row N)" in errors is exact.</summary>
    public const int ParallelParsingLimitBytes = 8 * 1024 * 1024;

    private static readonly KeyValuePair<string, string>[] Pinned =
    [
        new("insert_deduplicate", "1"),
        new("date_time_input_format", "best_effort"),
        new("input_format_allow_errors_num", "0"),
        new("input_format_allow_errors_ratio", "0"),
        new("max_insert_block_size", "1048449"),
        new("min_insert_block_size_rows", "1048449"),
        new("min_insert_block_size_bytes", "268402944"),
        new("deduplicate_blocks_in_dependent_materialized_views", "1"),

        // A batch that spans more than max_partitions_per_insert_block (100) partitions of the table (a backfill into a
        // PARTITION BY toYYYYMMDD table) fails with 252 on every retry; the engine inserts it when told not to throw,
        // one part per partition, each deduplicated by the same token (measured: a second insert adds nothing).
        new("throw_on_max_partitions_per_insert_block", "0"),
    ];

    /// <summary>
    /// For change events: a ReplacingMergeTree folds the rows of one key inside one insert block at insert time while
    /// <c>optimize_on_insert = 1</c> (the default; measured in tests/Core.Tests/Cdc), which would leave fewer rows than
    /// change events and make the presence probe see folded rows as missing. Every version lands; merges fold them.
    /// </summary>
    public static void KeepEveryVersion(Dictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings["optimize_on_insert"] = "0";
    }

    /// <summary>
    /// Asynchronous inserts waited for (the answer comes after the flush that wrote the rows, with the flush's error if
    /// any) and deduplicated by <c>insert_deduplication_token</c> like synchronous ones (docs/exactly-once.md, "Insert modes").
    /// </summary>
    private static readonly KeyValuePair<string, string>[] Asynchronous =
    [
        new("async_insert", "1"),
        new("wait_for_async_insert", "1"),
        new("async_insert_deduplicate", "1"),
    ];

    /// <summary>The settings of a synchronous insert.</summary>
    public static Dictionary<string, string> For(FrozenDictionary<string, string> extra, string token, long bodyBytes) =>
        For(extra, token, bodyBytes, InsertMode.Sync);

    /// <summary>The same insert, synchronous: what an asynchronous insert falls back to (<see cref="AsyncInsertFallback"/>).</summary>
    public static Dictionary<string, string> Synchronous(IReadOnlyDictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var sync = new Dictionary<string, string>(settings, StringComparer.Ordinal);
        foreach (var (k, _) in Asynchronous)
        {
            sync.Remove(k);
        }

        sync["async_insert"] = "0";
        return sync;
    }

    /// <summary>Whether these settings make an asynchronous insert.</summary>
    public static bool IsAsynchronous(IReadOnlyDictionary<string, string> settings) =>
        settings is not null && settings.TryGetValue("async_insert", out var v) && v == "1";

    public static Dictionary<string, string> For(FrozenDictionary<string, string> extra, string token, long bodyBytes, InsertMode mode)
    {
        ArgumentNullException.ThrowIfNull(extra);
        var settings = new Dictionary<string, string>(extra.Count + Pinned.Length + Asynchronous.Length + 2, StringComparer.Ordinal);
        foreach (var (k, v) in extra)
        {
            settings[k] = v;
        }

        foreach (var (k, v) in Pinned)
        {
            settings[k] = v;
        }

        if (mode == InsertMode.Async)
        {
            foreach (var (k, v) in Asynchronous)
            {
                settings[k] = v;
            }
        }
        else
        {
            settings["async_insert"] = "0";
        }

        settings["insert_deduplication_token"] = token;
        if (bodyBytes > ParallelParsingLimitBytes)
        {
            settings["input_format_parallel_parsing"] = "0";
        }

        return settings;
    }
}
