namespace MskClickHouse.Core.Audit;

/// <summary>
/// The comparison of the missing-records check, pure: for each acknowledged range, the rows it must have produced
/// (records received minus tombstones skipped) against the distinct offsets of the range found in the target table or
/// the dead-letter table. Kafka's offset gaps (transaction markers, compaction) do not matter: the range's recorded
/// count, not its width, is what must be found.
/// </summary>
public static class MissingRecords
{
    /// <param name="found">Distinct offsets found per range (keyed by the range's first offset); a range absent found none.</param>
    public static IReadOnlyList<MissingRange> Compare(AuditPartition partition, IReadOnlyList<AuditedRange> ranges, IReadOnlyDictionary<long, long> found)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        ArgumentNullException.ThrowIfNull(found);
        var missing = new List<MissingRange>();
        foreach (var r in ranges)
        {
            var present = found.GetValueOrDefault(r.Range.First);
            if (present < r.Count.Expected)
            {
                missing.Add(new MissingRange(partition, r.Range, r.Count.Expected, present));
            }
        }

        return missing;
    }
}
