using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Events;





namespace MskClickHouse.Core.Rows;

/// <summary>A record of a partition that will not be inserted into its table, and why.</summary>
public readonly record struct RejectedRecord(int RecordIndex, string Reason);

/// <summary>
/// The rows of one topic-partition ready to insert: JSONEachRow lines, one per accepted record, in offset order,
/// contiguous in <see cref="Buffer"/>, so the body of any offset sub-range is one slice.
/// When made by <see cref="RowEncoder"/> the buffer is pooled: <see cref="Dispose"/> returns it, after which
/// <see cref="Buffer"/> must not be used.
/// </summary>
public sealed class EncodedPartition : IDisposable
{
    private byte[]? pooled;

    public EncodedPartition(
        PartitionRecords source,
        TableShape shape,
        ReadOnlyMemory<byte> buffer,
        int[] rowStarts,
        long[] rowOffsets,
        IReadOnlyList<RejectedRecord> rejected,
        int tombstonesSkipped,
        int truncatesSkipped = 0)
    {
        ArgumentNullException.ThrowIfNull(rowStarts);
        ArgumentNullException.ThrowIfNull(rowOffsets);
        if (rowStarts.Length != rowOffsets.Length + 1)
        {
            throw new ArgumentException("rowStarts needs one entry more than rowOffsets", nameof(rowStarts));
        }

        Source = source;
        Shape = shape;
        Buffer = buffer;
        RowStarts = rowStarts;
        RowOffsets = rowOffsets;
        Rejected = rejected;
        TombstonesSkipped = tombstonesSkipped;
        TruncatesSkipped = truncatesSkipped;
    }

    /// <summary>Rows in a buffer rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/>, returned by <see cref="Dispose"/>.</summary>
    internal EncodedPartition(
        PartitionRecords source,
        TableShape shape,
        byte[] pooledBuffer,
        int length,
        int[] rowStarts,
        long[] rowOffsets,
        IReadOnlyList<RejectedRecord> rejected,
        int tombstonesSkipped,
        int truncatesSkipped)
        : this(source, shape, pooledBuffer.AsMemory(0, length), rowStarts, rowOffsets, rejected, tombstonesSkipped, truncatesSkipped)
    {
        pooled = pooledBuffer;
    }

    public PartitionRecords Source { get; }

    public TableShape Shape { get; }

    public TableName Table => Shape.Table;

    /// <summary>All rows, back to back; row i is <c>Buffer[RowStarts[i]..RowStarts[i+1]]</c> and ends with '\n'.</summary>
    public ReadOnlyMemory<byte> Buffer { get; }

    public int[] RowStarts { get; }

    /// <summary>The Kafka offset of each row, ascending.</summary>
    public long[] RowOffsets { get; }

    public int RowCount => RowOffsets.Length;

    /// <summary>Records that go to the dead-letter table (decode errors, non-object JSON, tombstones when so configured).</summary>
    public IReadOnlyList<RejectedRecord> Rejected { get; }

    public int TombstonesSkipped { get; }

    /// <summary>Change events of op <c>t</c> (a source table truncated): skipped, no row deleted (docs/cdc.md).</summary>
    public int TruncatesSkipped { get; }

    public ReadOnlyMemory<byte> Row(int index) => Buffer[RowStarts[index]..RowStarts[index + 1]];

    /// <summary>Rows <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive) as one slice.</summary>
    public ReadOnlyMemory<byte> Rows(int from, int to) => Buffer[RowStarts[from]..RowStarts[to]];

    /// <summary>The index of the first row whose offset is at least <paramref name="offset"/> (RowCount if none).</summary>
    public int LowerBound(long offset)
    {
        var i = Array.BinarySearch(RowOffsets, offset);
        return i >= 0 ? i : ~i;
    }

    /// <summary>The total size of the rows in bytes.</summary>
    public int ByteCount => Buffer.Length;

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref pooled, null);
        if (buffer is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
