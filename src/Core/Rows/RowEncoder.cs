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
            var records = partition.Records;
            for (var i = 0; i < records.Length; i++)
            {
                writer.Write(in records[i], i);
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
    public static EncodedPartition[] EncodeRouted(KafkaBatch batch, PartitionRecords partition, IReadOnlyList<(PartitionRecords Records, TableShape Shape)> units, TombstonePolicy tombstones, ResolvedSchemas? schemas = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(units);
        var writers = new RowWriter[units.Count];
        var next = new int[units.Count];
        var owns = new KafkaRecord[units.Count][];
        try
        {
            for (var u = 0; u < units.Count; u++)
            {
                writers[u] = new RowWriter(batch, units[u].Records, units[u].Shape, tombstones, schemas);
                owns[u] = units[u].Records.Records;
            }

            var records = partition.Records;
            for (var i = 0; i < records.Length; i++)
            {
                ref readonly var record = ref records[i];
                for (var u = 0; u < owns.Length; u++)
                {
                    // Offsets are unique in a partition: a unit's next record is this one when its offset is.
                    var own = owns[u];
                    var n = next[u];
                    if (n < own.Length && own[n].Offset == record.Offset)
                    {
                        writers[u].Write(in record, n);
                        next[u] = n + 1;
                    }
                }
            }

            for (var u = 0; u < units.Count; u++)
            {
                if (next[u] != owns[u].Length)
                {
                    throw new ArgumentException($"the records of unit {u} ({units[u].Shape.Table}) are not a subset of partition {partition.Topic}-{partition.Partition} in its order", nameof(units));
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
}
