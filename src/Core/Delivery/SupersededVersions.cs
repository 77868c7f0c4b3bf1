using System.Text;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// Change-event rows a ReplacingMergeTree may have folded away: a merge keeps only the highest <c>_version</c> (the
/// offset) of a sorting key, so an older change of a key is gone from the table once a later change of the same key
/// is in it. Debezium keys a record by the source row's primary key and keeps a key in one partition, so "the same
/// key" is "the same Kafka key bytes in this partition". Pure.
/// </summary>
public static class SupersededVersions
{
    /// <summary>
    /// The offsets of <paramref name="partition"/>'s records whose Kafka key has a later record among
    /// <paramref name="partition"/>'s records that is in <paramref name="present"/>: the table holds a newer version
    /// of that key, so the record counts as delivered even when its own row was merged away. Records without a key
    /// are never superseded.
    /// </summary>
    public static HashSet<long> Of(KafkaBatch batch, PartitionRecords partition, IReadOnlySet<long> present)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(present);
        var superseded = new HashSet<long>();
        var newerPresent = new Dictionary<string, bool>(StringComparer.Ordinal);
        var records = partition.Records;
        for (var i = records.Length - 1; i >= 0; i--)
        {
            ref readonly var r = ref records[i];
            if (r.Key.IsNull)
            {
                continue;
            }

            // Latin-1 maps every byte to one char: equal strings are equal key bytes.
            var key = Encoding.Latin1.GetString(batch.Bytes(r.Key));
            var later = newerPresent.GetValueOrDefault(key);
            if (later)
            {
                superseded.Add(r.Offset);
            }

            newerPresent[key] = later || present.Contains(r.Offset);
        }

        return superseded;
    }
}
