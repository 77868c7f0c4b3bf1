using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Json;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Drift;

/// <summary>Where a field was first seen in this invocation's sample.</summary>
public readonly record struct FieldSighting(string Topic, int Partition, long Offset);

/// <summary>
/// The top-level field names of one invocation's sampled rows, per target table, each with the first record it was
/// seen in. Rows are sampled by offset (every offset that is a multiple of the sample rate), so a test knows exactly
/// which records are looked at. Filled from the encoded partitions in parallel, hence the lock.
/// </summary>
public sealed class FieldSample
{
    private readonly int _every;
    private readonly Dictionary<TableName, Dictionary<string, FieldSighting>> _fields = [];

    /// <param name="every">Sample the rows whose offset is a multiple of this (1: every row); at least 1.</param>
    public FieldSample(int every)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(every, 1);
        _every = every;
    }

    /// <summary>The tables with sampled rows and their fields.</summary>
    public IReadOnlyDictionary<TableName, Dictionary<string, FieldSighting>> Fields => _fields;

    /// <summary>How many rows were scanned.</summary>
    public int RowsScanned { get; private set; }

    /// <summary>
    /// Scans the sampled rows of <paramref name="encoded"/> — exactly the JSON rows the sink sends — for their
    /// top-level names. The string format is skipped (its one column is the sink's own). Names of metadata columns the
    /// sink filled are left out: they are on the row because the table has them.
    /// </summary>
    public void Add(EncodedPartition encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (encoded.Shape.Format == ValueFormat.String || encoded.RowOffsets.Length == 0)
        {
            return;
        }

        var offsets = encoded.RowOffsets.AsSpan();
        var body = encoded.Buffer.Span;
        var state = new ScanState(encoded.Shape.Metadata);
        var scanned = 0;
        var i = 0;
        while (i < offsets.Length)
        {
            // The next multiple of the rate at or after this row's offset, found by binary search: no per-row work.
            var target = NextMultiple(offsets[i], _every);
            var found = offsets[i..].BinarySearch(target);
            if (found < 0)
            {
                i += ~found;
                continue;
            }

            i += found;
            var row = body[encoded.RowStarts[i]..encoded.RowStarts[i + 1]];
            state.Sighting = new FieldSighting(encoded.Source.Topic, encoded.Source.Partition, offsets[i]);
            var members = new TopLevelMembers(row);
            while (members.MoveNext())
            {
                Visit(members.Name, ref state);
            }

            scanned++;
            i++;
        }

        if (scanned == 0)
        {
            return;
        }

        lock (_fields)
        {
            RowsScanned += scanned;
            if (!_fields.TryGetValue(encoded.Shape.Table, out var fields))
            {
                _fields[encoded.Shape.Table] = fields = new Dictionary<string, FieldSighting>(StringComparer.Ordinal);
            }

            foreach (var (name, sighting) in state.Names)
            {
                if (!fields.TryGetValue(name, out var known) || Earlier(sighting, known))
                {
                    fields[name] = sighting;
                }
            }
        }
    }

    private static long NextMultiple(long offset, int every)
    {
        var r = offset % every;
        return r == 0 ? offset : offset < 0 ? offset - r : offset + (every - r);
    }

    private static bool Earlier(FieldSighting a, FieldSighting b) =>
        a.Topic == b.Topic && a.Partition == b.Partition && a.Offset < b.Offset;

    private static void Visit(ReadOnlySpan<byte> raw, ref ScanState state)
    {
        if (state.SinkColumns != MetadataColumns.None && (ColumnSet.FlagOf(raw) & state.SinkColumns) != 0)
        {
            return;
        }

        // A name seen before in this partition costs no string: it is looked up as UTF-16 on the stack.
        if (raw.Length <= 256 && raw.IndexOf((byte)'\\') < 0)
        {
            Span<char> chars = stackalloc char[256];
            if (System.Text.Encoding.UTF8.TryGetChars(raw, chars, out var n)
                && state.Names.GetAlternateLookup<ReadOnlySpan<char>>().ContainsKey(chars[..n]))
            {
                return;
            }
        }

        state.Names.TryAdd(TopLevelMembers.Decode(raw), state.Sighting);
    }

    private struct ScanState(MetadataColumns sinkColumns)
    {
        public readonly MetadataColumns SinkColumns = sinkColumns;
        public readonly Dictionary<string, FieldSighting> Names = new(StringComparer.Ordinal);
        public FieldSighting Sighting;
    }
}
