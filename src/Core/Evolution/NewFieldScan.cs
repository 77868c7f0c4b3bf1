using System.Text;
using System.Text.Json;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Json;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Core.Evolution;

/// <summary>
/// Finds the top-level fields of every row of an encoded partition (exactly the JSON the insert sends) that no column
/// receives. Pure. Each row costs one byte scan of its top-level names (<see cref="TopLevelMembers"/>) and one hash
/// lookup per name; only a row that carries an unknown name is parsed, to read the values' types. Names of metadata
/// columns are never new fields: the sink fills those columns itself when the table has them.
/// </summary>
public static class NewFieldScan
{
    /// <param name="schemaTypes">Column types from the partition's registry schemas by field name (Avro); other fields' types come from their values.</param>
    /// <returns>The new fields by name (case-insensitive: ClickHouse matches names so), each with its first row.</returns>
    public static Dictionary<string, NewField> Scan(EncodedPartition rows, KnownColumns known, IReadOnlyDictionary<string, string?> schemaTypes)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(known);
        ArgumentNullException.ThrowIfNull(schemaTypes);
        var found = new Dictionary<string, NewField>(StringComparer.OrdinalIgnoreCase);
        if (rows.Shape.Format == ValueFormat.String)
        {
            return found; // one column, the sink's own
        }

        var body = rows.Buffer.Span;
        for (var i = 0; i < rows.RowOffsets.Length; i++)
        {
            var row = body[rows.RowStarts[i]..rows.RowStarts[i + 1]];
            var state = new RowState(known);
            var members = new TopLevelMembers(row);
            while (!state.HasUnknown && members.MoveNext())
            {
                Visit(members.Name, ref state);
            }

            if (state.HasUnknown)
            {
                Collect(row, known, schemaTypes, rows.Source.Topic, rows.Source.Partition, rows.RowOffsets[i], found);
            }
        }

        return found;
    }

    /// <summary>Adds <paramref name="more"/> to <paramref name="into"/>: the first sighting is kept, the types widen.</summary>
    public static void Merge(Dictionary<string, NewField> into, IReadOnlyDictionary<string, NewField> more)
    {
        ArgumentNullException.ThrowIfNull(into);
        ArgumentNullException.ThrowIfNull(more);
        foreach (var (name, field) in more)
        {
            into[name] = into.TryGetValue(name, out var known)
                ? known with { Type = ColumnTypes.Widen(known.Type, field.Type) }
                : field;
        }
    }

    private static void Visit(ReadOnlySpan<byte> raw, ref RowState state)
    {
        if (state.HasUnknown || ColumnSet.FlagOf(raw) != MetadataColumns.None)
        {
            return;
        }

        if (raw.Length <= 256 && raw.IndexOf((byte)'\\') < 0)
        {
            Span<char> chars = stackalloc char[256];
            if (Encoding.UTF8.TryGetChars(raw, chars, out var n))
            {
                state.HasUnknown = !state.Known.Receives(chars[..n]);
                return;
            }
        }

        state.HasUnknown = !state.Known.Receives(TopLevelMembers.Decode(raw));
    }

    /// <summary>Parses one row (valid JSON: the encoder checked or wrote it) for the names and value types of its unknown fields.</summary>
    private static void Collect(ReadOnlySpan<byte> row, KnownColumns known, IReadOnlyDictionary<string, string?> schemaTypes, string topic, int partition, long offset, Dictionary<string, NewField> found)
    {
        var reader = new Utf8JsonReader(row, new JsonReaderOptions { MaxDepth = 512 });
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (!known.Receives(name) && ColumnSet.FlagOf(name) == MetadataColumns.None)
            {
                var type = schemaTypes.TryGetValue(name, out var fromSchema) && fromSchema is not null
                    ? fromSchema
                    : ColumnTypes.OfJsonValue(ref reader);
                found[name] = found.TryGetValue(name, out var seen)
                    ? seen with { Type = ColumnTypes.Widen(seen.Type, type) }
                    : new NewField(name, type, topic, partition, offset);
            }

            reader.Skip();
        }
    }

    private ref struct RowState(KnownColumns known)
    {
        public readonly KnownColumns Known = known;
        public bool HasUnknown;
    }
}
