using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Routing;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Hosting;

/// <summary>
/// The route step of an invocation: every partition split among its tables (<see cref="TopicRouter.Route"/>), each
/// (partition, table) a unit delivered on its own, plus one unit per partition for the records no rule matched (their
/// dead letters, under the machinery of any unit, so they land once). Field rules of registry-framed topics read the
/// decoded record: the partition's schemas are resolved before it is routed.
/// </summary>
internal sealed class RoutedUnits
{
    private readonly Dictionary<PartitionOutcome, IReadOnlyList<RejectedRecord>> _unrouted = [];

    /// <summary>Per routed unit: its partition's split and the unit's index among the split's tables (its target).</summary>
    private readonly Dictionary<PartitionOutcome, (PartitionRouting Routing, int Target)> _targets = [];

    private RoutedUnits(Dictionary<PartitionRecords, Formats.ResolvedSchemas> schemas) => Schemas = schemas;

    /// <summary>Every unit of the routed partitions, partition by partition; a partition that could not be routed is one failed unit.</summary>
    public List<PartitionOutcome> Outcomes { get; } = [];

    /// <summary>The schemas of each framed partition, by the whole partition (a unit's records are a subset of it).</summary>
    public Dictionary<PartitionRecords, Formats.ResolvedSchemas> Schemas { get; }

    /// <summary>Records no rule matched, skipped (UNROUTED=skip).</summary>
    public long UnroutedSkipped { get; private set; }

    /// <summary>Tombstones no rule matched, skipped (TOMBSTONES=skip).</summary>
    public long TombstonesSkipped { get; private set; }

    public static async Task<RoutedUnits> RouteAsync(KafkaBatch batch, IReadOnlyList<PartitionRecords> partitions, TopicRouter router, SinkOptions options, Formats.Registry.SchemaCache? cache, InvocationBudget budget, TimeProvider time, Action<PartitionOutcome, Exception> fail)
    {
        var failures = new Dictionary<PartitionRecords, Exception>();
        var schemas = await Formats.SchemaResolution.ResolveAllAsync(
            cache,
            batch,
            partitions,
            p => p,
            p => options.FormatOf(p.Topic),
            (p, e) => failures[p] = e,
            budget.GiveUpAt,
            time,
            budget.Work);
        var units = new RoutedUnits(schemas);
        var unroutedTable = TopicRoutes.UnroutedTable(options.Database);
        foreach (var p in partitions)
        {
            if (failures.TryGetValue(p, out var e))
            {
                var failed = new PartitionOutcome(p, router.TableOf(p.Topic));
                units.Outcomes.Add(failed);
                fail(failed, e);
                continue;
            }

            var routing = router.Route(batch, p, RoutedValues.For(options.FormatOf(p.Topic), schemas.GetValueOrDefault(p)));
            for (var t = 0; t < routing.Routed.Count; t++)
            {
                var routed = routing.Routed[t];
                var unit = new PartitionOutcome(routed.Records, routed.Table, routed.StateTopic, p);
                units.Outcomes.Add(unit);
                units._targets[unit] = (routing, t);
            }

            if (routing.Unrouted is { } unrouted)
            {
                var unit = new PartitionOutcome(unrouted, unroutedTable, TopicRoutes.StateTopic(p.Topic, unroutedTable, null), p);
                units.Outcomes.Add(unit);
                units._unrouted[unit] = routing.UnroutedReasons;
            }

            units.UnroutedSkipped += routing.UnroutedSkipped;
            units.TombstonesSkipped += routing.TombstonesSkipped;
        }

        return units;
    }

    /// <summary>True for the unit of a partition's unrouted records.</summary>
    public bool IsUnrouted(PartitionOutcome unit) => _unrouted.ContainsKey(unit);

    /// <summary>The candidate of an unrouted unit: a table without metadata columns (no fill path, landed marks).</summary>
    public PlanCandidate CandidateOf(PartitionOutcome unit, SinkOptions options) =>
        new(unit, new TableShape(unit.Table, MetadataColumns.None, options.FormatOf(unit.Source.Topic), options.StringColumn));

    /// <summary>
    /// Encodes the candidates <paramref name="which"/> into <paramref name="encoded"/> (same index), in parallel across
    /// partitions: the tables of one partition in one pass over it, each record written to the tables the split chose
    /// (<see cref="RowEncoder.EncodeRouted"/>, <see cref="PartitionRouting.Targets"/>); an unrouted
    /// unit gets its dead letters (<see cref="EncodedOf"/>).
    /// </summary>
    public void Encode(KafkaBatch batch, List<PlanCandidate> candidates, List<int> which, EncodedPartition?[] encoded, TombstonePolicy tombstones, Drift.FieldSample? sample)
    {
        foreach (var i in which.Where(i => IsUnrouted(candidates[i].Outcome)))
        {
            encoded[i] = EncodedOf(candidates[i].Outcome, candidates[i].Shape);
        }

        var byPartition = which.Where(i => !IsUnrouted(candidates[i].Outcome)).GroupBy(i => candidates[i].Outcome.Partition).ToList();
        Parallel.ForEach(byPartition, group =>
        {
            var members = group.ToList();
            var routing = _targets[candidates[members[0]].Outcome].Routing;
            var rows = RowEncoder.EncodeRouted(
                batch,
                group.Key,
                members.Select(i => (candidates[i].Outcome.Source, candidates[i].Shape)).ToList(),
                tombstones,
                Schemas.GetValueOrDefault(group.Key),
                routing.Targets,
                members.Select(i => _targets[candidates[i].Outcome].Target).ToList());
            for (var k = 0; k < members.Count; k++)
            {
                encoded[members[k]] = rows[k];
                sample?.Add(rows[k]);
            }
        });
    }

    /// <summary>An unrouted unit's "rows": none, every record rejected with the reason it has no route.</summary>
    public EncodedPartition EncodedOf(PartitionOutcome unit, TableShape shape) =>
        new(unit.Source, shape, ReadOnlyMemory<byte>.Empty, [0], [], _unrouted[unit], 0);
}
