namespace MskClickHouse.Core.Rows;

/// <summary>
/// Which targets (tables, by index) each record of a partition goes to, as the split decided: record <c>i</c>'s are
/// <see cref="Of"/>(i). Handed to <see cref="RowEncoder.EncodeRouted"/> so that a record is written to its tables
/// without being looked for in every table's records.
/// </summary>
public sealed class RecordTargets
{
    private readonly int[]? starts;
    private readonly int[] targets;

    /// <param name="starts">Per record, where its targets start in <paramref name="targets"/>; one more entry for the end.</param>
    public RecordTargets(int[] starts, int[] targets)
    {
        ArgumentNullException.ThrowIfNull(starts);
        ArgumentNullException.ThrowIfNull(targets);
        if (starts.Length == 0 || starts[^1] > targets.Length)
        {
            throw new ArgumentException("starts must hold one entry per record and the end, within targets", nameof(starts));
        }

        this.starts = starts;
        this.targets = targets;
        Records = starts.Length - 1;
    }

    private RecordTargets(int records, int count)
    {
        targets = [.. Enumerable.Range(0, count)];
        Records = records;
    }

    /// <summary>The records, each of which goes to every one of <paramref name="count"/> targets.</summary>
    public static RecordTargets Every(int records, int count) => new(records, count);

    public int Records { get; }

    /// <summary>The targets of the <paramref name="record"/>-th record (none: it goes nowhere).</summary>
    public ReadOnlySpan<int> Of(int record) => starts is null ? targets : targets.AsSpan(starts[record], starts[record + 1] - starts[record]);
}
