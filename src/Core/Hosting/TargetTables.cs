using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Routing;

namespace MskClickHouse.Core.Hosting;

/// <summary>
/// The route step of an invocation: each partition's table (<see cref="TopicRouter"/>), looked up in the
/// <see cref="TableCatalog"/>, and the shape its rows are encoded in. A table that is missing or cannot be read fails
/// its partitions; a table that cannot drop a retried insert is warned about once per process.
/// </summary>
internal sealed class TargetTables(TopicRouter router, TableCatalog catalog, ISinkLog log, bool createsMissing = false)
{
    private readonly HashSet<TableName> _warned = [];

    /// <summary>Where a topic's records go: a table, nowhere (DEFAULT_ROUTE=none), or a refused table (<see cref="RouteGuard"/>).</summary>
    public Route RouteOf(string topic) => router.Route(topic);

    /// <summary>
    /// The partitions whose table exists (or, with AUTO_CREATE_TABLES, will be created before the inserts), with its
    /// shape, in the order of <paramref name="outcomes"/>; <paramref name="found"/> receives what the catalog said of
    /// each table.
    /// </summary>
    public async Task<List<PlanCandidate>> ShapesAsync(List<PartitionOutcome> outcomes, Retrier retrier, Action<PartitionOutcome, Exception> fail, Dictionary<TableName, TableInfo>? found = null)
    {
        var tables = new Dictionary<TableName, TableInfo?>();
        foreach (var table in outcomes.Where(o => o.Failure is null).Select(o => o.Table).Distinct())
        {
            try
            {
                tables[table] = await retrier.RunAsync(c => catalog.GetAsync(table, c));
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
                candidates.Add(new PlanCandidate(o, router.ShapeFor(o.Source.Topic, Evolution.SchemaEvolver.CreatedTableColumns)));
                continue;
            }

            if (!info.Exists)
            {
                catalog.Forget(o.Table);
                fail(o, new ClickHouseException(
                    $"table {o.Table} does not exist: create it (docs/configuration.md shows a schema) or route topic '{o.Source.Topic}' elsewhere with TOPIC_TABLES",
                    ClickHouseErrorKind.MissingTable,
                    serverCode: 60));
                continue;
            }

            WarnIfCannotDeduplicate(info, outcomes.Count(x => x.Table == o.Table));
            o.TableDeduplicates = info.CanDeduplicate;
            candidates.Add(new PlanCandidate(o, router.ShapeFor(o.Source.Topic, info.Columns)));
        }

        return candidates;
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
