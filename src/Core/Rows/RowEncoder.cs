using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;

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
/// <para>Metadata columns are spliced in front of the value's own fields: <c>{"_topic":..,"_partition":..,</c> +
/// the object after its <c>{</c>. <c>_timestamp</c> is written as ISO 8601 UTC with a <c>Z</c>
/// (<c>"2018-12-17T22:10:50.987Z"</c>), which <c>date_time_input_format=best_effort</c> reads as UTC.</para>
/// </remarks>
public static class RowEncoder
{
    private const int MaxValueDepth = 256;

    private static readonly JsonReaderOptions ValidationOptions = new() { MaxDepth = MaxValueDepth };

    private static readonly SearchValues<byte> Whitespace = SearchValues.Create(" \t\r\n"u8);

    /// <param name="schemas">For the registry formats (avro, protobuf, json-schema): the partition's schemas, looked up beforehand.</param>
    public static EncodedPartition Encode(KafkaBatch batch, PartitionRecords partition, TableShape shape, TombstonePolicy tombstones, Formats.ResolvedSchemas? schemas = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(shape);

        var records = partition.Records;
        var meta = shape.Metadata;
        var isFramed = shape.Format is ValueFormat.Avro or ValueFormat.Protobuf or ValueFormat.JsonSchema;
        var isJson = shape.Format == ValueFormat.Json || isFramed;
        var prefix = PartitionPrefix(partition, meta, batch.SourceName);
        var stringColumn = isJson ? [] : StringColumnPrefix(shape.StringColumn);

        // First guess: the values plus a typical metadata size; Reserve grows for the rare record that needs more.
        long estimate = 64;
        foreach (ref readonly var r in records.AsSpan())
        {
            estimate += (r.Value.IsNull ? 0 : r.Value.Length) + prefix.Length + stringColumn.Length + 16
                + (meta == MetadataColumns.None ? 0 : 96 + (r.Key.IsNull ? 0 : r.Key.Length + (r.Key.Length >> 3)));
        }

        var output = new RowBuffer((int)Math.Min(estimate + (isJson ? 0 : estimate >> 3), Array.MaxLength));
        var rowStarts = new int[records.Length + 1];
        var rowOffsets = new long[records.Length];
        List<RejectedRecord>? rejected = null;
        var rows = 0;
        var tombstonesSkipped = 0;

        try
        {
            for (var i = 0; i < records.Length; i++)
            {
                ref readonly var record = ref records[i];
                string? reason = record.Error;
                if (reason is null && record.Value.IsNull)
                {
                    if (tombstones == TombstonePolicy.Skip)
                    {
                        tombstonesSkipped++;
                        continue;
                    }

                    reason = "tombstone (null value)";
                }

                var value = batch.Bytes(record.Value);
                var inner = default(ReadOnlySpan<byte>);
                var validate = true;
                if (reason is null && isFramed)
                {
                    reason = Formats.FramedValueDecoder.Decode(value, schemas ?? Formats.ResolvedSchemas.Empty, meta, out value, out validate);
                    if (reason is null && !validate)
                    {
                        inner = value[1..]; // a transcoded object: '{' ... '}', one line, metadata names checked per schema
                    }
                }

                if (reason is null && isJson && validate)
                {
                    reason = ValidateObject(value, meta, record.ValueSchemaFormat, out inner);
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
                    w += WriteMetadata(batch, in record, meta, prefix, dest[w..]);
                }

                if (isJson)
                {
                    // inner: the object after its '{', up to and including its '}'.
                    if (w > 1 && inner.IndexOfAnyExcept(Whitespace) != inner.Length - 1)
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
                tombstonesSkipped);
        }
        catch
        {
            output.Release();
            throw;
        }
    }

    /// <summary>
    /// Null when <paramref name="value"/> is one JSON object and nothing else; otherwise why not.
    /// <paramref name="inner"/> is the object after its opening brace, through its closing brace.
    /// </summary>
    internal static string? ValidateObject(ReadOnlySpan<byte> value, MetadataColumns meta, SchemaDataFormat schemaFormat, out ReadOnlySpan<byte> inner)
    {
        inner = default;
        var first = value.IndexOfAnyExcept(Whitespace);
        if (first < 0)
        {
            return value.IsEmpty ? "value is empty, expected a JSON object" : "value is only whitespace, expected a JSON object";
        }

        if (value[first] != (byte)'{')
        {
            var kind = value[first] switch
            {
                (byte)'[' => "a JSON array",
                (byte)'"' => "a JSON string",
                (byte)'t' or (byte)'f' => "a JSON boolean",
                (byte)'n' => "JSON null",
                (byte)'-' or (>= (byte)'0' and <= (byte)'9') => "a JSON number",
                _ => null,
            };
            if (kind is not null && IsValidJson(value))
            {
                return $"value is {kind}, expected an object";
            }

            return NotJsonReason(value, schemaFormat, first, "it does not start with '{'");
        }

        var reader = new Utf8JsonReader(value, ValidationOptions);
        try
        {
            reader.Read();
            if (meta == MetadataColumns.None)
            {
                reader.Skip();
            }
            else
            {
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    // At depth 1: a property name of the row; its value is skipped whole.
                    var name = reader.ValueSpan;
                    if (name.Length > 0 && name[0] == (byte)'_' && !reader.ValueIsEscaped)
                    {
                        var flag = ColumnSet.FlagOf(name);
                        if ((flag & meta) != 0)
                        {
                            return $"value has its own top-level '{ColumnSet.NameOf(flag)}' field, which is also a metadata column of the table";
                        }
                    }

                    reader.Read();
                    reader.Skip();
                }
            }

            var end = (int)reader.BytesConsumed;
            var trailing = value[end..].IndexOfAnyExcept(Whitespace);
            if (trailing >= 0)
            {
                return $"value has trailing data after the JSON object at byte {end + trailing}";
            }

            if (!Utf8.IsValid(value))
            {
                return $"value is not valid UTF-8 at byte {FirstInvalidUtf8(value)}";
            }

            inner = value[(first + 1)..end];
            return null;
        }
        catch (JsonException ex)
        {
            var at = ex.LineNumber is long line && ex.BytePositionInLine is long inLine
                ? KafkaEventDecoder.AbsolutePosition(value, line, inLine, reader.BytesConsumed)
                : reader.BytesConsumed;
            return NotJsonReason(value, schemaFormat, at, KafkaEventDecoder.StripPosition(ex.Message));
        }
    }

    private static string NotJsonReason(ReadOnlySpan<byte> value, SchemaDataFormat schemaFormat, long at, string message)
    {
        if (schemaFormat is SchemaDataFormat.Avro or SchemaDataFormat.Protobuf)
        {
            var name = schemaFormat == SchemaDataFormat.Avro ? "AVRO" : "PROTOBUF";
            return $"value is {name} in SOURCE format; set EventRecordFormat to JSON on the event source mapping, or VALUE_FORMAT={name.ToLowerInvariant()} to decode it in the function";
        }

        if (!Utf8.IsValid(value) || value.IndexOf((byte)0) >= 0)
        {
            return $"value is not valid JSON: binary data (not UTF-8 text) at byte {FirstInvalidUtf8(value)}; Avro or Protobuf topics need a schema registry with EventRecordFormat JSON on the event source mapping";
        }

        return $"value is not valid JSON: {message} at byte {at}";
    }

    private static bool IsValidJson(ReadOnlySpan<byte> value)
    {
        var reader = new Utf8JsonReader(value, ValidationOptions);
        try
        {
            return reader.Read() && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> value)
    {
        var i = 0;
        while (i < value.Length)
        {
            if (value[i] == 0 || System.Text.Rune.DecodeFromUtf8(value[i..], out _, out var consumed) != OperationStatus.Done)
            {
                return i;
            }

            i += consumed;
        }

        return i;
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

    /// <summary>Writes the record's metadata fields (no leading '{', no trailing ','); returns the byte count.</summary>
    private static int WriteMetadata(KafkaBatch batch, in KafkaRecord record, MetadataColumns meta, ReadOnlySpan<byte> prefix, Span<byte> dest)
    {
        prefix.CopyTo(dest);
        var w = prefix.Length;
        var first = w == 0;
        if ((meta & MetadataColumns.Offset) != 0)
        {
            w += Field(dest[w..], ref first, "\"_offset\":"u8);
            Utf8Formatter.TryFormat(record.Offset, dest[w..], out var n);
            w += n;
        }

        if ((meta & MetadataColumns.Timestamp) != 0)
        {
            w += Field(dest[w..], ref first, "\"_timestamp\":\""u8);
            w += JsonText.Timestamp(record.TimestampMs, dest[w..]);
            dest[w++] = (byte)'"';
        }

        if ((meta & MetadataColumns.TimestampType) != 0)
        {
            w += Field(dest[w..], ref first, "\"_timestamp_type\":"u8);
            var text = record.TimestampType switch
            {
                TimestampType.CreateTime => "\"CREATE_TIME\""u8,
                TimestampType.LogAppendTime => "\"LOG_APPEND_TIME\""u8,
                _ => "\"NO_TIMESTAMP_TYPE\""u8,
            };
            text.CopyTo(dest[w..]);
            w += text.Length;
        }

        if ((meta & MetadataColumns.Key) != 0)
        {
            w += Field(dest[w..], ref first, "\"_key\":"u8);
            if (record.Key.IsNull)
            {
                "null"u8.CopyTo(dest[w..]);
                w += 4;
            }
            else
            {
                dest[w++] = (byte)'"';
                w += JsonText.Escape(batch.Bytes(record.Key), dest[w..]);
                dest[w++] = (byte)'"';
            }
        }

        if ((meta & MetadataColumns.Headers) != 0)
        {
            w += Field(dest[w..], ref first, "\"_headers\":{"u8);
            var separator = false;
            foreach (var h in batch.HeadersOf(in record))
            {
                if (separator)
                {
                    dest[w++] = (byte)',';
                }

                separator = true;
                dest[w++] = (byte)'"';
                w += JsonText.Escape(batch.Bytes(h.Name), dest[w..]);
                dest[w++] = (byte)'"';
                dest[w++] = (byte)':';
                dest[w++] = (byte)'"';
                w += JsonText.Escape(batch.Bytes(h.Value), dest[w..]);
                dest[w++] = (byte)'"';
            }

            dest[w++] = (byte)'}';
        }

        return w;
    }

    private static int Field(Span<byte> dest, ref bool first, ReadOnlySpan<byte> name)
    {
        var w = 0;
        if (!first)
        {
            dest[w++] = (byte)',';
        }

        first = false;
        name.CopyTo(dest[w..]);
        return w + name.Length;
    }

    /// <summary>The per-partition constant metadata: <c>"_topic":"..","_partition":N,"_source":".."</c> (any of them, or nothing).</summary>
    private static byte[] PartitionPrefix(PartitionRecords partition, MetadataColumns meta, string sourceName)
    {
        var topic = Encoding.UTF8.GetBytes(partition.Topic);
        var source = (meta & MetadataColumns.Source) != 0 ? Encoding.UTF8.GetBytes(sourceName) : [];
        var buffer = new byte[(topic.Length * 6) + (source.Length * 6) + 64];
        var w = 0;
        if ((meta & MetadataColumns.Topic) != 0)
        {
            "\"_topic\":\""u8.CopyTo(buffer);
            w = 10;
            w += JsonText.Escape(topic, buffer.AsSpan(w));
            buffer[w++] = (byte)'"';
        }

        if ((meta & MetadataColumns.Partition) != 0)
        {
            if (w > 0)
            {
                buffer[w++] = (byte)',';
            }

            "\"_partition\":"u8.CopyTo(buffer.AsSpan(w));
            w += 13;
            Utf8Formatter.TryFormat(partition.Partition, buffer.AsSpan(w), out var n);
            w += n;
        }

        if ((meta & MetadataColumns.Source) != 0)
        {
            if (w > 0)
            {
                buffer[w++] = (byte)',';
            }

            "\"_source\":\""u8.CopyTo(buffer.AsSpan(w));
            w += 11;
            w += JsonText.Escape(source, buffer.AsSpan(w));
            buffer[w++] = (byte)'"';
        }

        return buffer.AsSpan(0, w).ToArray();
    }

    private static byte[] StringColumnPrefix(string column)
    {
        var name = Encoding.UTF8.GetBytes(column);
        var buffer = new byte[(name.Length * 6) + 4];
        var w = 0;
        buffer[w++] = (byte)'"';
        w += JsonText.Escape(name, buffer.AsSpan(w));
        buffer[w++] = (byte)'"';
        buffer[w++] = (byte)':';
        buffer[w++] = (byte)'"';
        return buffer.AsSpan(0, w).ToArray();
    }

    /// <summary>A growable buffer rented from the shared pool.</summary>
    private sealed class RowBuffer(int initialCapacity)
    {
        private byte[]? buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 256));

        public int Length { get; private set; }

        public Span<byte> Free => buffer.AsSpan(Length);

        public void Reserve(int bytes)
        {
            var b = buffer!;
            if (b.Length - Length >= bytes)
            {
                return;
            }

            var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max((long)b.Length * 2, (long)Length + bytes), Array.MaxLength));
            b.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(b);
            buffer = bigger;
        }

        public void Advance(int bytes) => Length += bytes;

        public byte[] Detach()
        {
            var b = buffer!;
            buffer = null;
            return b;
        }

        public void Release()
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
            }
        }
    }
}
