using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Rows;

/// <summary>
/// What the records a table receives hold, summed, for the first guess of its row buffer (<see cref="RowWriter"/>):
/// counted in one pass over a partition for all its tables at once (<see cref="RowEncoder.EncodeRouted"/>).
/// </summary>
internal struct RowSizes
{
    public int Records;
    public long ValueBytes;
    public long KeyBytes;
    public long HeaderBytes;

    /// <summary>The sizes of every record of <paramref name="partition"/>.</summary>
    public static RowSizes Of(KafkaBatch batch, PartitionRecords partition, bool headers)
    {
        var sizes = default(RowSizes);
        for (var i = 0; i < partition.Count; i++)
        {
            sizes.Add(batch, in partition[i], headers);
        }

        return sizes;
    }

    public void Add(KafkaBatch batch, in KafkaRecord record, bool headers)
    {
        Records++;
        ValueBytes += record.Value.IsNull ? 0 : record.Value.Length;
        KeyBytes += record.Key.IsNull ? 0 : record.Key.Length;
        if (headers)
        {
            foreach (var h in batch.HeadersOf(in record))
            {
                HeaderBytes += 6 + (h.Name.IsNull ? 0 : h.Name.Length) + (h.Value.IsNull ? 0 : h.Value.Length);
            }
        }
    }
}
