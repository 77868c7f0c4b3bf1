using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Routing;

namespace MskClickHouse.Core.Hosting;

/// <summary>
/// The route step of an invocation: each partition's table (<see cref="TopicRouter"/>), looked up in the
/// <see cref="TableCatalog"/>, and the shape its rows are encoded in, with its topology: where presence is asked (the
/// table, the stored table behind a Null landing table, or nowhere) and whether inserts write through views. A table
/// that is missing or cannot be read fails its partitions; a table that cannot drop a retried insert (for a table that
/// keeps no rows: a table its views write to) is warned about once per process.
/// </summary>
internal sealed class TargetTables(TopicRouter router, TableCatalog catalog, ISinkLog log, bool createsMissing = false)
{
    private readonly HashSet<TableName> _warned = [];

    /// <summary>The table of a topic without content routes.</summary>
    public TableName TableOf(string topic) => router.TableOf(topic);

    /// <summary>The router the units of a batch come from.</summary>
    public TopicRouter Router => router;

    /// <summary>
    /// The units whose table exists (or, with AUTO_CREATE_TABLES, will be created before the inserts), with its
    /// shape, in the order of <paramref name="outcomes"/>; <paramref name="found"/> receives what the catalog said of
    /// each table.
    /// </summary>
    public async Task<List<PlanCandidate>> ShapesAsync(List<PartitionOutcome> outcomes, Retrier retrier, Action<PartitionOutcome, Exception> fail, Dictionary<TableName, TableInfo>? found = null)
    {
        var tables = new Dictionary<TableName, TableInfo?>();
        var behind = new Dictionary<TableName, IReadOnlyList<TableInfo>>();
        foreach (var table in outcomes.Where(o => o.Failure is null).Select(o => o.Table).Distinct())
        {
            try
            {
                var info = await retrier.RunAsync(c => catalog.GetAsync(table, c));
                tables[table] = info;
                behind[table] = await ViewTargetsAsync(info, retrier);
            }
            catch (ClickHouseException e)
            {
                tables[table] = null;
                foreach (var o in outcomes.Where(o => o.Table == table))
                {
                    fail(o, e);
                }
            }
        }

        var candidates = new List<PlanCandidate>();
        foreach (var o in outcomes.Where(o => o.Failure is null))
        {
            var info = tables[o.Table]!;
            found?.TryAdd(o.Table, info);
            if (!info.Exists && createsMissing)
            {
                // AUTO_CREATE_TABLES: encoded for the table the schema evolver creates before the inserts.
                catalog.Forget(o.Table);
                o.TableDeduplicates = true;
                candidates.Add(new PlanCandidate(o, router.ShapeFor(o.Source.Topic, o.Table, Evolution.SchemaEvolver.CreatedTableColumns)));
                continue;
            }

            if (!info.Exists)
            {
                catalog.Forget(o.Table);
                fail(o, new ClickHouseException(
                    $"table {o.Table} does not exist: create it (docs/configuration.md shows a schema) or route topic '{o.Source.Topic}' elsewhere with TOPIC_TABLES or ROUTES",
                    ClickHouseErrorKind.MissingTable,
                    serverCode: 60));
                continue;
            }

            // A table that keeps nothing deduplicates through the tables its views write to (the token is passed on).
            IReadOnlyList<TableInfo> deduplicating = info.StoresRows || behind[o.Table].Count == 0 ? [info] : behind[o.Table];
            foreach (var t in deduplicating)
            {
                WarnIfCannotDeduplicate(t, outcomes.Count(x => x.Table == o.Table));
            }

            o.TableDeduplicates = deduplicating.All(t => t.CanDeduplicate);
            o.DeduplicatingTable = deduplicating[0];
            var stored = info.StoredBehind is { } b ? behind[o.Table].FirstOrDefault(t => t.Table == b) : null;
            candidates.Add(new PlanCandidate(o, router.ShapeFor(o.Source.Topic, o.Table, info.Columns).WithTopology(info, stored)));
        }

        return candidates;
    }

    /// <summary>The tables a table's materialized views write to, for a table that keeps no rows itself; none otherwise.</summary>
    private async Task<IReadOnlyList<TableInfo>> ViewTargetsAsync(TableInfo info, Retrier retrier)
    {
        if (!info.Exists || info.StoresRows)
        {
            return [];
        }

        var targets = new List<TableInfo>();
        foreach (var target in info.Views.Where(v => v.IsMaterialized && v.Target is not null).Select(v => v.Target!).Distinct())
        {
            targets.Add(await retrier.RunAsync(c => catalog.GetAsync(target, c)));
        }

        return targets;
    }

    private void WarnIfCannotDeduplicate(TableInfo info, int partitions)
    {
        if (DeduplicationWindowCheck.Assess(info, partitions) is not { } warning)
        {
            return;
        }

        lock (_warned)
        {
            if (!_warned.Add(info.Table))
            {
                return;
            }
        }

        log.Write(LogLevel.Warning, warning, new LogFields(Table: info.Table.ToString()));
    }
}
