using System.Globalization;
using System.Text;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Delivery.State;

namespace MskClickHouse.Core.Audit;

/// <summary>Runs the audit's reads (<see cref="AuditQueries"/>) against ClickHouse and parses their answers.</summary>
public sealed class AuditReader
{
    private readonly IClickHouseGateway _gateway;

    public AuditReader(IClickHouseGateway gateway)
    {
        _gateway = gateway;
    }

    /// <summary>The plan records of the window, or null when the state table does not record range counts yet.</summary>
    public async Task<IReadOnlyList<PlanRecord>?> PlanRecordsAsync(TableName state, string sinkId, DateTimeOffset since, CancellationToken ct)
    {
        var has = Encoding.UTF8.GetString(await _gateway.QueryAsync(AuditQueries.HasRangeCountsSql(state), ct)).Trim();
        if (has == "0")
        {
            return null;
        }

        var records = new List<PlanRecord>();
        var bytes = await _gateway.QueryAsync(AuditQueries.PlanRecordsSql(state, sinkId, since), ct);
        foreach (var line in ((ReadOnlyMemory<byte>)bytes).Split())
        {
            using var doc = JsonDocument.Parse(line);
            var row = doc.RootElement;
            var key = new PartitionKey(row.GetProperty("topic").GetString()!, row.GetProperty("partition").GetInt32());
            var plan = ClickHouseStateStore.PlanOf(row, key, legacy: false);
            records.Add(new PlanRecord(PlanRecord.SourceOf(row.GetProperty("source").GetString()!), key, plan.Version, plan.Nonce, plan.Entries));
        }

        return records;
    }

    /// <summary>Offsets present more than once: a cheap per-partition check, then the offsets of the partitions it named.</summary>
    public async Task<IReadOnlyList<DuplicateRange>> DuplicatesAsync(TableName table, bool hasSource, bool hasTimestamp, DateTimeOffset since, CancellationToken ct)
    {
        var found = new List<DuplicateRange>();
        var partitions = (await TsvAsync(AuditQueries.DuplicatePartitionsSql(table, hasSource, hasTimestamp, since), ct))
            .Select(f => new AuditPartition(f[0], f[1], Int(f[2])))
            .ToList();
        if (partitions.Count == 0)
        {
            return found;
        }

        foreach (var f in await TsvAsync(AuditQueries.DuplicateRangesSql(table, hasSource, hasTimestamp, since, partitions), ct))
        {
            found.Add(new DuplicateRange(new AuditPartition(f[0], f[1], Int(f[2])), new OffsetRange(Long(f[3]), Long(f[4])), Long(f[5]), Long(f[6])));
        }

        return found;
    }

    /// <summary>Distinct offsets found per range (target or dead-letter table), keyed by partition and the range's first offset.</summary>
    public async Task<Dictionary<AuditPartition, Dictionary<long, long>>> FoundAsync(TableName table, bool hasSource, TableName deadLetters, string sinkId, IReadOnlyList<(AuditPartition Partition, OffsetRange Range)> ranges, IReadOnlyDictionary<(string Topic, int Partition), string> dlqSources, CancellationToken ct)
    {
        var found = new Dictionary<AuditPartition, Dictionary<long, long>>();
        for (var i = 0; i < ranges.Count; i += AuditQueries.RangesPerQuery)
        {
            var chunk = ranges.Skip(i).Take(AuditQueries.RangesPerQuery).ToList();
            foreach (var f in await TsvAsync(AuditQueries.FoundSql(table, hasSource, deadLetters, sinkId, chunk, dlqSources), ct))
            {
                var p = new AuditPartition(f[0], f[1], Int(f[2]));
                if (!found.TryGetValue(p, out var byFirst))
                {
                    found[p] = byFirst = [];
                }

                byFirst[Long(f[3])] = Long(f[4]);
            }
        }

        return found;
    }

    private async Task<List<string[]>> TsvAsync(string sql, CancellationToken ct)
    {
        var bytes = await _gateway.QueryAsync(sql, ct);
        return ((ReadOnlyMemory<byte>)bytes).Split().Select(l => Encoding.UTF8.GetString(l.Span).Split('\t')).ToList();
    }

    private static long Long(string s) => long.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    private static int Int(string s) => int.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
}
