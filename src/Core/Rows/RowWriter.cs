using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Formats;
using MskClickHouse.Core.Json;

namespace MskClickHouse.Core.Rows;

/// <summary>
/// The rows of one (partition, table) being written, one record at a time, in offset order, into one pooled buffer
/// (<see cref="RowEncoder"/> describes the rows). <see cref="Finish"/> hands the buffer to the
/// <see cref="EncodedPartition"/>; <see cref="Release"/> returns it when the rows are abandoned.
/// </summary>
internal sealed class RowWriter
{
    private readonly KafkaBatch batch;
    private readonly PartitionRecords partition;
    private readonly TableShape shape;
    private readonly ResolvedSchemas schemas;
    private readonly MetadataColumns meta;
    private readonly bool isFramed;
    private readonly bool isJson;
    private readonly bool changeEvents;
    private readonly bool skipTombstones;
    private readonly byte[] prefix;
    private readonly byte[] stringColumn;
    private readonly PooledBuffer output;
    private int[] rowStarts;
    private long[] rowOffsets;
    private List<RejectedRecord>? rejected;
    private int rows;
    private int tombstonesSkipped;
    private int truncatesSkipped;

    /// <param name="partition">The records this table receives (their indexes are what <see cref="RejectedRecord.RecordIndex"/> counts).</param>
    /// <param name="sizes">What those records hold (<see cref="RowSizes"/>, headers summed when the shape writes them); null: counted here.</param>
    public RowWriter(KafkaBatch batch, PartitionRecords partition, TableShape shape, TombstonePolicy tombstones, ResolvedSchemas? schemas, RowSizes? sizes = null)
    {
        this.batch = batch;
        this.partition = partition;
        this.shape = shape;
        this.schemas = schemas ?? ResolvedSchemas.Empty;
        meta = shape.Metadata;
        isFramed = shape.Format is ValueFormat.Avro or ValueFormat.Protobuf or ValueFormat.JsonSchema;
        isJson = shape.Format == ValueFormat.Json || isFramed;
        changeEvents = shape.ChangeEvents != ChangeEventFormat.None;
        skipTombstones = tombstones == TombstonePolicy.Skip;
        prefix = MetadataWriter.PartitionPrefix(partition, meta, batch.SourceName);
        stringColumn = isJson ? [] : MetadataWriter.StringColumnPrefix(shape.StringColumn);

        // First guess: the values plus a typical metadata size (the headers' bytes when they are written), and room for
        // the worst case Reserve asks of the last rows; Reserve grows for the rare partition that needs more. An
        // undershoot costs a copy of every row written so far.
        var of = sizes ?? RowSizes.Of(batch, partition, (meta & MetadataColumns.Headers) != 0);
        var estimate = 4096 + of.ValueBytes + (of.Records * (long)(prefix.Length + stringColumn.Length + 16))
            + (meta == MetadataColumns.None ? 0 : (of.Records * 128L) + of.KeyBytes + (of.KeyBytes >> 3) + ((meta & MetadataColumns.Headers) != 0 ? of.HeaderBytes : 0));
        output = new PooledBuffer((int)Math.Min(estimate + (isJson ? 0 : estimate >> 3), Array.MaxLength));
        rowStarts = new int[partition.Count + 1];
        rowOffsets = new long[partition.Count];
    }

    /// <summary>Writes the row of <paramref name="record"/>, the <paramref name="index"/>-th of the partition, or rejects or skips it.</summary>
    public void Write(in KafkaRecord record, int index)
    {
        string? reason = record.Error;
        if (reason is null && record.Value.IsNull)
        {
            if (skipTombstones || changeEvents)
            {
                tombstonesSkipped++;
                return;
            }

            reason = "tombstone (null value)";
        }

        var value = batch.Bytes(record.Value);
        var raw = value;
        var inner = default(ReadOnlySpan<byte>);
        var validate = true;
        if (reason is null && isFramed)
        {
            reason = FramedValueDecoder.Decode(value, schemas, meta, out value, out validate);
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
            var types = isFramed ? Formats.FramedValueDecoder.ChangeEventTypesOf(raw, schemas) : null;
            var change = Cdc.DebeziumEnvelope.Map(value, record.Offset, types, out var mapped);
            switch (change.Kind)
            {
                case Cdc.ChangeEventKind.Tombstone:
                    tombstonesSkipped++;
                    return;
                case Cdc.ChangeEventKind.Truncate:
                    truncatesSkipped++;
                    return;
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
            (rejected ??= []).Add(new RejectedRecord(index, reason));
            return;
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

    /// <summary>The rows written, owning the buffer.</summary>
    public EncodedPartition Finish()
    {
        rowStarts[rows] = output.Length;
        if (rows < rowOffsets.Length)
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

    /// <summary>Returns the buffer: the rows are abandoned.</summary>
    public void Release() => output.Release();

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
