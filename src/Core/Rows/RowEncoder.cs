using System.Text.Json;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Formats;

namespace MskClickHouse.Core.Rows;

/// <summary>
/// Turns the records of one partition into a JSONEachRow body: one line per accepted record, in offset order, in one
/// pooled buffer. Pure: the same batch, partition and shape always give the same bytes.
/// </summary>
/// <remarks>
/// <para><b>json</b>: each value must be exactly one JSON object; it is validated with <see cref="Utf8JsonReader"/>
/// and passed through as bytes (ClickHouse parses it). Raw CR/LF bytes, which valid JSON can only hold as whitespace
/// between tokens, become spaces so that a row is one line.</para>
/// <para><b>string</b>: the value bytes become <c>{"&lt;column&gt;":"&lt;escaped&gt;"}</c>; only <c>"</c>, <c>\</c> and
/// control bytes are escaped, every other byte (non-ASCII, even invalid UTF-8) passes through.</para>
/// <para><b>change events</b> (CDC_FORMAT, <see cref="TableShape.ChangeEvents"/>): the value, decoded as above, is a
/// Debezium envelope that <see cref="Cdc.DebeziumEnvelope"/> maps onto the row; tombstones and truncates leave no row.</para>
/// <para>Metadata columns are spliced in front of the value's own fields: <c>{"_topic":..,"_partition":..,</c> +
/// the object after its <c>{</c>. <c>_timestamp</c> is written as ISO 8601 UTC with a <c>Z</c>
/// (<c>"2018-12-17T22:10:50.987Z"</c>), which <c>date_time_input_format=best_effort</c> reads as UTC.</para>
/// </remarks>
public static class RowEncoder
{
    /// <param name="schemas">For the registry formats (avro, protobuf, json-schema): the partition's schemas, looked up beforehand.</param>
    public static EncodedPartition Encode(KafkaBatch batch, PartitionRecords partition, TableShape shape, TombstonePolicy tombstones, ResolvedSchemas? schemas = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(shape);
        var writer = new RowWriter(batch, partition, shape, tombstones, schemas);
        try
        {
            for (var i = 0; i < partition.Count; i++)
            {
                writer.Write(in partition[i], i);
            }

            return writer.Finish();
        }
        catch
        {
            writer.Release();
            throw;
        }
    }

    /// <summary>
    /// The rows of every table a partition's records were routed to, in one pass over the partition: each record is
    /// written to each of its tables while its value is in cache, instead of one pass per table over a scattered
    /// subset. The same rows, bytes and rejections as <see cref="Encode"/> of each table's records.
    /// </summary>
    /// <param name="partition">The whole partition.</param>
    /// <param name="units">Per table: the records it receives (a subset of <paramref name="partition"/> in its order, or the partition itself) and its shape.</param>
    /// <param name="targets">
    /// The split's decision per record of <paramref name="partition"/> (<see cref="RecordTargets"/>): a record is written
    /// only to the units of its targets. Null: each unit's records are found by their offsets.
    /// </param>
    /// <param name="targetOfUnit">Per unit, the target index it stands for in <paramref name="targets"/>; null: the unit's own index.</param>
    public static EncodedPartition[] EncodeRouted(KafkaBatch batch, PartitionRecords partition, IReadOnlyList<(PartitionRecords Records, TableShape Shape)> units, TombstonePolicy tombstones, ResolvedSchemas? schemas = null, RecordTargets? targets = null, IReadOnlyList<int>? targetOfUnit = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(units);
        var records = partition.Records;
        var owns = units.Select(u => u.Records).ToArray();
        targets ??= ByOffsets(records, owns);
        if (targets.Records != records.Length)
        {
            throw new ArgumentException($"the targets are of {targets.Records} records, partition {partition.Topic}-{partition.Partition} has {records.Length}", nameof(targets));
        }

        var unitOfTarget = UnitOfTarget(units.Count, targetOfUnit);
        var writers = new RowWriter[units.Count];
        var next = new int[units.Count];
        try
        {
            var sizes = SizesOf(batch, partition, units);
            for (var u = 0; u < units.Count; u++)
            {
                writers[u] = new RowWriter(batch, units[u].Records, units[u].Shape, tombstones, schemas, sizes[u]);
            }

            for (var i = 0; i < records.Length; i++)
            {
                ref readonly var record = ref records[i];
                foreach (var t in targets.Of(i))
                {
                    var u = (uint)t < (uint)unitOfTarget.Length ? unitOfTarget[t] : -1;
                    if (u < 0)
                    {
                        continue; // a table not encoded now
                    }

                    // Offsets are unique in a partition: the unit's next record is this one when its offset is.
                    var own = owns[u];
                    var n = next[u];
                    if (n < own.Count && own[n].Offset == record.Offset)
                    {
                        writers[u].Write(in record, n);
                        next[u] = n + 1;
                    }
                }
            }

            for (var u = 0; u < units.Count; u++)
            {
                if (next[u] != owns[u].Count)
                {
                    throw new ArgumentException($"the records of unit {u} ({units[u].Shape.Table}) are not a subset of partition {partition.Topic}-{partition.Partition} in its order, or not all of them are among its targets", nameof(units));
                }
            }

            var encoded = new EncodedPartition[units.Count];
            for (var u = 0; u < units.Count; u++)
            {
                encoded[u] = writers[u].Finish();
            }

            return encoded;
        }
        catch
        {
            foreach (var w in writers)
            {
                w?.Release();
            }

            throw;
        }
    }

    /// <summary>
    /// Each unit's <see cref="RowSizes"/>: the partition's, counted in one pass, shared out by the number of records the
    /// unit receives (<see cref="RowSizes.Share"/>) instead of a pass per unit over its subset.
    /// </summary>
    private static RowSizes[] SizesOf(KafkaBatch batch, PartitionRecords partition, IReadOnlyList<(PartitionRecords Records, TableShape Shape)> units)
    {
        var whole = RowSizes.Of(batch, partition, units.Any(u => (u.Shape.Metadata & MetadataColumns.Headers) != 0));
        return units.Select(u => whole.Share(u.Records.Count)).ToArray();
    }

    /// <summary>Per record, the units whose records hold its offset (each unit's next one in order).</summary>
    private static RecordTargets ByOffsets(KafkaRecord[] records, PartitionRecords[] owns)
    {
        var starts = new int[records.Length + 1];
        var found = new List<int>(records.Length);
        var next = new int[owns.Length];
        for (var i = 0; i < records.Length; i++)
        {
            starts[i] = found.Count;
            for (var u = 0; u < owns.Length; u++)
            {
                if (next[u] < owns[u].Count && owns[u][next[u]].Offset == records[i].Offset)
                {
                    found.Add(u);
                    next[u]++;
                }
            }
        }

        starts[records.Length] = found.Count;
        return new RecordTargets(starts, [.. found]);
    }

    private static int[] UnitOfTarget(int units, IReadOnlyList<int>? targetOfUnit)
    {
        if (targetOfUnit is null)
        {
            return [.. Enumerable.Range(0, units)];
        }

        if (targetOfUnit.Count != units || targetOfUnit.Any(t => t < 0))
        {
            throw new ArgumentException($"one target index (>= 0) per unit expected, got {targetOfUnit.Count} for {units} units", nameof(targetOfUnit));
        }

        var unitOf = new int[units == 0 ? 0 : targetOfUnit.Max() + 1];
        Array.Fill(unitOf, -1);
        for (var u = 0; u < units; u++)
        {
            unitOf[targetOfUnit[u]] = u;
        }

        return unitOf;
    }
}
