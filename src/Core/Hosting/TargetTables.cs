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
internal sealed class TargetTables(TopicRouter router, TableCatalog catalog, ISinkLog log)
{
    private readonly HashSet<TableName> _warned = [];

    public TableName TableOf(string topic) => router.TableOf(topic);

    /// <summary>The router the units of a batch come from.</summary>
    public TopicRouter Router => router;

    /// <summary>The partitions whose table exists, with its shape, in the order of <paramref name="outcomes"/>.</summary>
    public async Task<List<PlanCandidate>> ShapesAsync(List<PartitionOutcome> outcomes, Retrier retrier, Action<PartitionOutcome, Exception> fail)
    {
        var tables = new Dictionary<TableName, TableInfo?>();
        foreach (var table in outcomes.Select(o => o.Table).Distinct())
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
            if (!info.Exists)
            {
                catalog.Forget(o.Table);
                fail(o, new ClickHouseException(
                    $"table {o.Table} does not exist: create it (docs/configuration.md shows a schema) or route topic '{o.Source.Topic}' elsewhere with TOPIC_TABLES or ROUTES",
                    ClickHouseErrorKind.MissingTable,
                    serverCode: 60));
                continue;
            }

            WarnIfCannotDeduplicate(info, outcomes.Count(x => x.Table == o.Table));
            o.TableDeduplicates = info.CanDeduplicate;
            candidates.Add(new PlanCandidate(o, router.ShapeFor(o.Source.Topic, o.Table, info.Columns)));
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
