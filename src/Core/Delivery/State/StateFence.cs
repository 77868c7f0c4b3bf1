using System.Globalization;
using System.Text;
using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Core.Delivery.State;

/// <summary>
/// The fenced state write: one <c>INSERT … SELECT</c> that keeps a partition's rows only if the partition's newest
/// recorded version is still the one the write expects. The condition is evaluated by the server when it executes the
/// insert, so a write applied after its writer gave up (the connection dropped, the server went on) is judged at the
/// instant it lands, not when it was sent (docs/exactly-once.md, "The fenced state write").
/// </summary>
internal sealed class StateFence(TableName table, string sinkId)
{
    /// <summary>The state table's columns, as created and as every write lists them.</summary>
    internal const string ColumnDefinitions =
        "sink_id String, source String, topic String, partition Int32, generation UInt32, nonce UInt64, " +
        "entries Array(Tuple(first Int64, last Int64, token_first Int64, token_last Int64, generation UInt32, pending UInt8, landed UInt8)), " +
        "rounds Array(UInt32), " + ClickHouseStateStore.RangeCountsColumn + " Array(Tuple(records Int32, skipped Int32)), " + ClickHouseStateStore.GroupsColumn + " Array(UInt64), " + ClickHouseStateStore.WindowMarksColumn + " Array(Tuple(block Int64, at Int64)), updated_at DateTime64(3, 'UTC'), version UInt64";

    private const string ColumnNames = "sink_id, source, topic, partition, generation, nonce, entries, rounds, " + ClickHouseStateStore.RangeCountsColumn + ", " +
        ClickHouseStateStore.GroupsColumn + ", " + ClickHouseStateStore.WindowMarksColumn + ", updated_at, version";

    /// <summary>
    /// ClickHouse parses at most <c>max_query_size</c> bytes of a query (262,144 by default), and the rows travel inside
    /// it; a larger write raises the limit for its own request.
    /// </summary>
    private const int DefaultMaxQuerySize = 262_144;

    /// <summary>
    /// The rows (JSONEachRow, each with its <c>expected</c> version) go in as one string literal inside the query, split
    /// into lines and parsed with <c>JSONExtract</c>: no table function, so no privilege beyond SELECT and INSERT on the
    /// state table (<c>format()</c>, like most table functions, needs CREATE TEMPORARY TABLE; <c>input()</c>, which would keep the
    /// rows in the body, is refused in <c>INSERT … SELECT</c> by embedded engines). The newest version of a partition is
    /// the highest of this source's state rows (a ReplacingMergeTree(version) keeps exactly that one), or of its adopted
    /// legacy row while it has none; plan records (another source column) are not state. A partition never recorded
    /// reads 0 (<c>join_use_nulls = 0</c>).
    /// </summary>
    internal string InsertSql(SourceIdentity source, IEnumerable<PartitionKey> keys, ReadOnlySpan<byte> rows)
    {
        var name = SqlIdentifier.Literal(source.Name);
        var lines = Encoding.UTF8.GetString(rows).TrimEnd('\n');
        // Only strings are interpolated (StateRowFormat.Pairs formats the partitions invariantly).
        return $"INSERT INTO {table.Sql} ({ColumnNames}) " +
            $"SELECT {KeptColumns} " +
            $"FROM (SELECT {InputFields} FROM (SELECT JSONExtract(line, {InputType}) AS r " +
            $"FROM (SELECT arrayJoin(splitByChar('\\n', {SqlIdentifier.Literal(lines)})) AS line))) AS b " +
            $"LEFT JOIN (SELECT topic, partition, if(countIf(source = {name}) > 0, maxIf(version, source = {name}), maxIf(version, source = '')) AS newest " +
            $"FROM {table.Sql} WHERE sink_id = {SqlIdentifier.Literal(sinkId)} AND source IN ({name}, '') AND (topic, partition) IN ({StateRowFormat.Pairs(keys.Distinct())}) " +
            "GROUP BY topic, partition) AS cur ON b.topic = cur.topic AND b.partition = cur.partition " +
            "WHERE ifNull(cur.newest, 0) = b.expected";
    }

    /// <summary>The parsed input's columns: the table's and the write's expected version, out of the JSON tuple.</summary>
    private static readonly string InputFields = string.Join(", ", ColumnNames.Split(", ").Append("expected").Select(c => $"tupleElement(r, '{c}') AS {c}"));

    private static readonly string InputType = SqlIdentifier.Literal($"Tuple({ColumnDefinitions}, expected UInt64)");

    /// <summary>What is inserted of a kept input row: the table's columns.</summary>
    private static readonly string KeptColumns = string.Join(", ", ColumnNames.Split(", ").Select(c => "b." + c));

    /// <summary>The write settings, with room for the query when its rows make it larger than the default limit.</summary>
    internal static IReadOnlyDictionary<string, string> Settings(string sql, IReadOnlyDictionary<string, string> writeSettings)
    {
        var bytes = Encoding.UTF8.GetByteCount(sql);
        if (bytes < DefaultMaxQuerySize - 1024)
        {
            return writeSettings;
        }

        return new Dictionary<string, string>(writeSettings)
        {
            ["max_query_size"] = (bytes + 65_536).ToString(CultureInfo.InvariantCulture),
        };
    }
}
