namespace MskClickHouse.Core.Events;

/// <summary>The records of a partition in offset order, each offset once. Pure.</summary>
internal static class OffsetOrder
{
    /// <summary>Sorts by offset (stable) and keeps the first of each repeated offset; O(n) when already strictly ascending.</summary>
    public static KafkaRecord[] SortAndDeduplicate(ReadOnlySpan<KafkaRecord> records, out int dropped)
    {
        dropped = 0;
        var ascending = true;
        for (var i = 1; i < records.Length; i++)
        {
            if (records[i].Offset <= records[i - 1].Offset)
            {
                ascending = false;
                break;
            }
        }

        if (ascending)
        {
            return records.ToArray();
        }

        var order = new (long Offset, int Index)[records.Length];
        for (var i = 0; i < records.Length; i++)
        {
            order[i] = (records[i].Offset, i);
        }

        Array.Sort(order);
        var kept = new List<KafkaRecord>(records.Length);
        for (var i = 0; i < order.Length; i++)
        {
            if (i > 0 && order[i].Offset == order[i - 1].Offset)
            {
                dropped++;
                continue;
            }

            kept.Add(records[order[i].Index]);
        }

        return [.. kept];
    }
}
