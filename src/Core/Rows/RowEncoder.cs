using System.Buffers;
using System.Text.Json;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Formats;
using MskClickHouse.Core.Json;

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

        var records = partition.Records;
        var meta = shape.Metadata;
        var isFramed = shape.Format is ValueFormat.Avro or ValueFormat.Protobuf or ValueFormat.JsonSchema;
        var isJson = shape.Format == ValueFormat.Json || isFramed;
        var changeEvents = shape.ChangeEvents != ChangeEventFormat.None;
        var prefix = MetadataWriter.PartitionPrefix(partition, meta, batch.SourceName);
        var stringColumn = isJson ? [] : MetadataWriter.StringColumnPrefix(shape.StringColumn);

        // First guess: the values plus a typical metadata size; Reserve grows for the rare record that needs more.
        long estimate = 64;
        foreach (ref readonly var r in records.AsSpan())
        {
            estimate += (r.Value.IsNull ? 0 : r.Value.Length) + prefix.Length + stringColumn.Length + 16
                + (meta == MetadataColumns.None ? 0 : 96 + (r.Key.IsNull ? 0 : r.Key.Length + (r.Key.Length >> 3)));
        }

        var output = new PooledBuffer((int)Math.Min(estimate + (isJson ? 0 : estimate >> 3), Array.MaxLength));
        var rowStarts = new int[records.Length + 1];
        var rowOffsets = new long[records.Length];
        List<RejectedRecord>? rejected = null;
        var rows = 0;
        var tombstonesSkipped = 0;
        var truncatesSkipped = 0;

        try
        {
            for (var i = 0; i < records.Length; i++)
            {
                ref readonly var record = ref records[i];
                string? reason = record.Error;
                if (reason is null && record.Value.IsNull)
                {
                    if (tombstones == TombstonePolicy.Skip || changeEvents)
                    {
                        tombstonesSkipped++;
                        continue;
                    }

                    reason = "tombstone (null value)";
                }

                var value = batch.Bytes(record.Value);
                var raw = value;
                var inner = default(ReadOnlySpan<byte>);
                var validate = true;
                if (reason is null && isFramed)
                {
                    reason = FramedValueDecoder.Decode(value, schemas ?? ResolvedSchemas.Empty, meta, out value, out validate);
                    if (reason is null && !validate)
                    {
                        inner = value[1..]; // a transcoded object: '{' ... '}', one line, metadata names checked per schema
                    }
                }

                if (reason is null && isJson && validate)
                {
                    reason = JsonObjectCheck.ValidateObject(value, meta, record.ValueSchemaFormat, out inner);
                }

                if (reason is null && changeEvents)
                {
                    var types = isFramed ? Formats.FramedValueDecoder.ChangeEventTypesOf(raw, schemas ?? Formats.ResolvedSchemas.Empty) : null;
                    var change = Cdc.DebeziumEnvelope.Map(value, record.Offset, types, out var mapped);
                    switch (change.Kind)
                    {
                        case Cdc.ChangeEventKind.Tombstone:
                            tombstonesSkipped++;
                            continue;
                        case Cdc.ChangeEventKind.Truncate:
                            truncatesSkipped++;
                            continue;
                        case Cdc.ChangeEventKind.Malformed:
                            reason = change.Reason;
                            break;
                        default:
                            value = mapped;
                            reason = JsonObjectCheck.ValidateObject(value, meta, record.ValueSchemaFormat, out inner);
                            break;
                    }
                }

                if (reason is not null)
                {
                    (rejected ??= []).Add(new RejectedRecord(i, reason));
                    continue;
                }

                rowStarts[rows] = output.Length;
                rowOffsets[rows] = record.Offset;
                rows++;

                output.Reserve(WorstCase(batch, in record, value.Length, isJson, prefix.Length, stringColumn.Length));
                var dest = output.Free;
                var w = 0;
                dest[w++] = (byte)'{';
                if (meta != MetadataColumns.None)
                {
                    w += MetadataWriter.WriteMetadata(batch, in record, meta, prefix, dest[w..]);
                }

                if (isJson)
                {
                    // inner: the object after its '{', up to and including its '}'.
                    if (w > 1 && inner.IndexOfAnyExcept(JsonObjectCheck.Whitespace) != inner.Length - 1)
                    {
                        dest[w++] = (byte)',';
                    }

                    var body = dest.Slice(w, inner.Length);
                    inner.CopyTo(body);
                    if (inner.ContainsAny((byte)'\n', (byte)'\r'))
                    {
                        body.Replace((byte)'\n', (byte)' ');
                        body.Replace((byte)'\r', (byte)' ');
                    }

                    w += inner.Length;
                }
                else
                {
                    if (w > 1)
                    {
                        dest[w++] = (byte)',';
                    }

                    stringColumn.CopyTo(dest[w..]);
                    w += stringColumn.Length;
                    w += JsonText.Escape(value, dest[w..]);
                    dest[w++] = (byte)'"';
                    dest[w++] = (byte)'}';
                }

                dest[w++] = (byte)'\n';
                output.Advance(w);
            }

            rowStarts[rows] = output.Length;
            if (rows < records.Length)
            {
                Array.Resize(ref rowOffsets, rows);
                Array.Resize(ref rowStarts, rows + 1);
            }

            return new EncodedPartition(
                partition,
                shape,
                output.Detach(),
                rowStarts[rows],
                rowStarts,
                rowOffsets,
                rejected is null ? [] : rejected,
                tombstonesSkipped,
                truncatesSkipped);
        }
        catch
        {
            output.Release();
            throw;
        }
    }

    /// <summary>An upper bound of the bytes one row can take.</summary>
    private static int WorstCase(KafkaBatch batch, in KafkaRecord record, int valueLength, bool isJson, int prefixLength, int stringColumnLength)
    {
        long n = 4 + prefixLength + stringColumnLength + (isJson ? valueLength : valueLength * 6L);
        n += 160; // offset, timestamp, timestamp type, key null/quotes, separators
        n += record.Key.IsNull ? 0 : record.Key.Length * 6L;
        foreach (var h in batch.HeadersOf(in record))
        {
            n += 8 + (h.Name.IsNull ? 0 : h.Name.Length * 6L) + (h.Value.IsNull ? 0 : h.Value.Length * 6L);
        }

        return (int)Math.Min(n, Array.MaxLength);
    }
}
