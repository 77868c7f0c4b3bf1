using System.Buffers.Text;
using System.Text;
using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Rows;

/// <summary>The metadata columns of a row and the per-partition prefix they share.</summary>
public static partial class RowEncoder
{
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
}
