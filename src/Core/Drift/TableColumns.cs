namespace MskClickHouse.Core.Drift;

/// <summary>One column of a target table as <c>system.columns</c> lists it.</summary>
/// <param name="DefaultKind"><c>default_kind</c>: empty, <c>DEFAULT</c>, <c>MATERIALIZED</c>, <c>ALIAS</c> or <c>EPHEMERAL</c>.</param>
public readonly record struct TableColumn(string Name, string DefaultKind)
{
    /// <summary>
    /// Whether an inserted JSON field lands in this column. Measured on ClickHouse 26.7: a value sent for an ALIAS or
    /// MATERIALIZED column is ignored (the column is computed), and so is one for an EPHEMERAL column, which takes
    /// values only when named in the INSERT's column list (the sink's <c>INSERT INTO t FORMAT JSONEachRow</c> has none).
    /// </summary>
    public bool TakesInsertedValues => DefaultKind is "" or "DEFAULT";
}

/// <summary>
/// Which top-level JSON fields of a JSONEachRow insert a table receives, as ClickHouse 26.7 matches them
/// (tests/Core.Tests/Drift/UnknownFieldsEngineTests records each rule against the engine):
/// <list type="bullet">
/// <item>a field lands in the column of the same name, compared <b>case-insensitively</b> (<c>{"ID":7}</c> fills
/// <c>id</c>); a JSON, Map or Tuple column named <c>payload</c> receives the field <c>payload</c> whatever it holds;</item>
/// <item>a Nested column <c>n</c> (flattened to <c>n.x</c>, <c>n.y</c> by the default <c>flatten_nested=1</c>) receives
/// the fields <c>n.x</c>, <c>n.y</c>; the field <c>n</c> (an object of arrays) only with
/// <c>input_format_import_nested_json=1</c> (default 0: dropped);</item>
/// <item>a dotted field into a Tuple or JSON column (<c>tp.a</c>, <c>payload.k</c>) is dropped;</item>
/// <item>a field named like an ALIAS, MATERIALIZED or EPHEMERAL column is dropped.</item>
/// </list>
/// Everything else is dropped without a word under <c>input_format_skip_unknown_fields=1</c> (the server default).
/// </summary>
public static class TableColumns
{
    /// <summary>True when ClickHouse puts the field <paramref name="field"/> into some column of <paramref name="columns"/>.</summary>
    public static bool Receives(IReadOnlyList<TableColumn> columns, string field, bool importNestedJson)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(field);
        foreach (var c in columns)
        {
            if (!c.TakesInsertedValues)
            {
                continue;
            }

            if (string.Equals(c.Name, field, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            if (importNestedJson
                && c.Name.Length > field.Length + 1
                && c.Name[field.Length] == '.'
                && c.Name.StartsWith(field, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The fields of <paramref name="fields"/> no column receives, in the order given.</summary>
    public static List<string> Unknown(IReadOnlyList<TableColumn> columns, IEnumerable<string> fields, bool importNestedJson)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var unknown = new List<string>();
        foreach (var f in fields)
        {
            if (!Receives(columns, f, importNestedJson))
            {
                unknown.Add(f);
            }
        }

        return unknown;
    }
}
