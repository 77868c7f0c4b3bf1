using MskClickHouse.Core.Events;

namespace MskClickHouse.Core.Rows;

/// <summary>
/// What the records a table receives hold, summed, for the first guess of its row buffer (<see cref="RowWriter"/>):
/// counted in one pass over a partition and shared out among its tables (<see cref="RowEncoder.EncodeRouted"/>).
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

    /// <summary>
    /// What <paramref name="records"/> of these records hold if they are average ones, an eighth more when they are a
    /// part of them (a table may receive the larger records; a guess short of its rows costs one copy as the buffer grows).
    /// </summary>
    public readonly RowSizes Share(int records)
    {
        if (records >= Records || Records == 0)
        {
            return this;
        }

        var share = (double)records / Records * 1.125;
        return new RowSizes
        {
            Records = records,
            ValueBytes = (long)(ValueBytes * share),
            KeyBytes = (long)(KeyBytes * share),
            HeaderBytes = (long)(HeaderBytes * share),
        };
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
