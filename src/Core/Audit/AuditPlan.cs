using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Audit;

/// <summary>
/// What the missing-records check of one table reads, pure: the acknowledged ranges of every (source, topic, partition)
/// whose topic routes to the table. A table without <c>_source</c> cannot tell two sources' offsets apart: a partition
/// that two sources wrote in the window is left out (and named in <see cref="Skipped"/>); otherwise its one source's
/// dead letters count (<see cref="DeadLetterSources"/>) and its findings carry source ''.
/// </summary>
public sealed record AuditPlan(
    IReadOnlyDictionary<AuditPartition, IReadOnlyList<AuditedRange>> Ranges,
    IReadOnlyDictionary<(string Topic, int Partition), string> DeadLetterSources,
    IReadOnlyList<string> Skipped)
{
    /// <param name="routeOf">The table a state name's rows were written to.</param>
    /// <param name="topicOf">The Kafka topic of a state name (<c>topic@db.table</c> with ROUTES); the name itself by default.</param>
    public static AuditPlan For(TableName table, bool hasSource, IReadOnlyList<PlanRecord> records, Func<string, TableName> routeOf, Func<string, string>? topicOf = null)
    {
        topicOf ??= static t => t;
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(routeOf);
        var ranges = new Dictionary<AuditPartition, IReadOnlyList<AuditedRange>>();
        var dlqSources = new Dictionary<(string, int), string>();
        var skipped = new List<string>();
        var routed = records.Where(r => routeOf(r.Key.Topic) == table).ToList();
        foreach (var byPartition in routed.GroupBy(r => r.Key).OrderBy(g => g.Key.Topic, StringComparer.Ordinal).ThenBy(g => g.Key.Partition))
        {
            var sources = byPartition.Select(r => r.Source).Distinct().Order(StringComparer.Ordinal).ToList();
            if (!hasSource && sources.Count > 1)
            {
                skipped.Add(FormattableString.Invariant(
                    $"{byPartition.Key.Topic}/{byPartition.Key.Partition}: {sources.Count} sources wrote it and {table} has no _source column to tell their offsets apart (ALTER TABLE {table} ADD COLUMN _source LowCardinality(String))"));
                continue;
            }

            foreach (var source in sources)
            {
                var acknowledged = AcknowledgedRanges.Of(byPartition.Where(r => r.Source == source).ToList());
                if (acknowledged.Count == 0)
                {
                    continue;
                }

                ranges[new AuditPartition(hasSource ? source : string.Empty, topicOf(byPartition.Key.Topic), byPartition.Key.Partition)] = acknowledged;
                if (!hasSource)
                {
                    dlqSources[(topicOf(byPartition.Key.Topic), byPartition.Key.Partition)] = source;
                }
            }
        }

        return new AuditPlan(ranges, dlqSources, skipped);
    }

    /// <summary>Every range with its partition, in partition order: the input of <see cref="AuditQueries.FoundSql"/>.</summary>
    public IReadOnlyList<(AuditPartition Partition, Delivery.OffsetRange Range)> Flattened() =>
        Ranges.SelectMany(p => p.Value.Select(r => (p.Key, r.Range))).ToList();
}
