namespace MskClickHouse.Core.Rows;

/// <summary>
/// The ClickPipes-style metadata columns and how a table's column names map to <see cref="MetadataColumns"/>.
/// Names are matched exactly (ClickHouse column names are case-sensitive).
/// </summary>
/// <remarks>
/// Expected types: <c>_topic String</c>, <c>_partition Int32</c>, <c>_offset Int64</c>,
/// <c>_timestamp DateTime64(3, 'UTC')</c> (written as ISO 8601 with a <c>Z</c>, so it is read as UTC whatever the
/// column's time zone), <c>_timestamp_type String</c> (or LowCardinality(String)), <c>_key Nullable(String)</c>,
/// <c>_headers Map(String, String)</c>, <c>_source String</c> (or LowCardinality(String)).
/// </remarks>
public static class ColumnSet
{
    public const string Topic = "_topic";
    public const string Partition = "_partition";
    public const string Offset = "_offset";
    public const string Timestamp = "_timestamp";
    public const string TimestampType = "_timestamp_type";
    public const string Key = "_key";
    public const string Headers = "_headers";
    public const string Source = "_source";

    private static readonly (string Name, MetadataColumns Flag)[] All =
    [
        (Topic, MetadataColumns.Topic),
        (Partition, MetadataColumns.Partition),
        (Offset, MetadataColumns.Offset),
        (Timestamp, MetadataColumns.Timestamp),
        (TimestampType, MetadataColumns.TimestampType),
        (Key, MetadataColumns.Key),
        (Headers, MetadataColumns.Headers),
        (Source, MetadataColumns.Source),
    ];

    /// <summary>
    /// The metadata columns present among <paramref name="columnNames"/>
    /// (e.g. the result of <c>SELECT name FROM system.columns WHERE database = .. AND table = ..</c>).
    /// </summary>
    public static MetadataColumns MetadataOf(IEnumerable<string> columnNames)
    {
        ArgumentNullException.ThrowIfNull(columnNames);
        var result = MetadataColumns.None;
        foreach (var name in columnNames)
        {
            result |= FlagOf(name);
        }

        return result;
    }

    /// <summary>The metadata flag of one column name; <see cref="MetadataColumns.None"/> for an ordinary column.</summary>
    public static MetadataColumns FlagOf(string columnName)
    {
        ArgumentNullException.ThrowIfNull(columnName);
        if (columnName.Length < 4 || columnName[0] != '_')
        {
            return MetadataColumns.None;
        }

        foreach (var (name, flag) in All)
        {
            if (string.Equals(name, columnName, StringComparison.Ordinal))
            {
                return flag;
            }
        }

        return MetadataColumns.None;
    }

    /// <summary>The metadata flag of a UTF-8 column name; <see cref="MetadataColumns.None"/> for an ordinary column.</summary>
    public static MetadataColumns FlagOf(ReadOnlySpan<byte> utf8ColumnName) => utf8ColumnName switch
    {
        _ when utf8ColumnName.Length < 4 || utf8ColumnName[0] != (byte)'_' => MetadataColumns.None,
        _ when utf8ColumnName.SequenceEqual("_topic"u8) => MetadataColumns.Topic,
        _ when utf8ColumnName.SequenceEqual("_partition"u8) => MetadataColumns.Partition,
        _ when utf8ColumnName.SequenceEqual("_offset"u8) => MetadataColumns.Offset,
        _ when utf8ColumnName.SequenceEqual("_timestamp"u8) => MetadataColumns.Timestamp,
        _ when utf8ColumnName.SequenceEqual("_timestamp_type"u8) => MetadataColumns.TimestampType,
        _ when utf8ColumnName.SequenceEqual("_key"u8) => MetadataColumns.Key,
        _ when utf8ColumnName.SequenceEqual("_headers"u8) => MetadataColumns.Headers,
        _ when utf8ColumnName.SequenceEqual("_source"u8) => MetadataColumns.Source,
        _ => MetadataColumns.None,
    };

    /// <summary>The column name of a single metadata flag.</summary>
    public static string NameOf(MetadataColumns single)
    {
        foreach (var (name, flag) in All)
        {
            if (flag == single)
            {
                return name;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(single), single, "expected exactly one metadata column flag");
    }

    /// <summary>The column names of <paramref name="columns"/>, in a fixed order.</summary>
    public static IReadOnlyList<string> NamesOf(MetadataColumns columns)
    {
        var names = new List<string>(All.Length);
        foreach (var (name, flag) in All)
        {
            if ((columns & flag) != 0)
            {
                names.Add(name);
            }
        }

        return names;
    }
}
