using MskClickHouse.Core.Drift;

namespace MskClickHouse.Core.Evolution;

/// <summary>
/// The field names a table's columns receive, for a per-field lookup without allocation: a column receives the field of
/// its name compared case-insensitively, and with <c>input_format_import_nested_json=1</c> a Nested column
/// <c>n.x</c> also receives the field <c>n</c> (the rules of <see cref="TableColumns"/>, measured there).
/// </summary>
public sealed class KnownColumns
{
    private readonly HashSet<string> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public KnownColumns(IEnumerable<string> columnNames, bool importNestedJson)
    {
        ArgumentNullException.ThrowIfNull(columnNames);
        foreach (var name in columnNames)
        {
            _names.Add(name);
            var dot = name.IndexOf('.', StringComparison.Ordinal);
            if (importNestedJson && dot > 0)
            {
                _names.Add(name[..dot]);
            }
        }

        _lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public bool Receives(ReadOnlySpan<char> field) => _lookup.Contains(field);

    public bool Receives(string field) => _names.Contains(field);
}
