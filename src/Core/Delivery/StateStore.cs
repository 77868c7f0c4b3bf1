using System.Buffers;
using System.Globalization;
using System.Text.Json;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Routing;

namespace MskClickHouse.Core.Delivery;

/// <summary>Reads and records the per-partition delivery state.</summary>
public interface IStateStore
{
    Task<IReadOnlyDictionary<PartitionKey, PartitionState>> LoadAsync(IReadOnlyCollection<PartitionKey> keys, CancellationToken cancellationToken);

    /// <summary>Records the state of every partition of an invocation in one insert, before any data insert.</summary>
    Task SaveAsync(IReadOnlyCollection<PartitionState> states, CancellationToken cancellationToken);
}

/// <summary>
/// The state table: a ReplacingMergeTree keyed (sink_id, topic, partition), read with FINAL, newest version wins.
/// </summary>
public sealed class ClickHouseStateStore : IStateStore
{
    private static readonly IReadOnlyDictionary<string, string> WriteSettings = new Dictionary<string, string>
    {
        ["async_insert"] = "0",
        ["insert_deduplicate"] = "0",
        ["date_time_input_format"] = "best_effort",
    };

    private readonly IClickHouseGateway _gateway;
    private readonly TableName _table;
    private readonly string _sinkId;
    private readonly TimeProvider _time;
    private long _lastVersion;

    public ClickHouseStateStore(IClickHouseGateway gateway, TableName table, string sinkId, TimeProvider time)
    {
        _gateway = gateway;
        _table = table;
        _sinkId = sinkId;
        _time = time;
    }

    public static string CreateTableSql(TableName table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return $"""
            CREATE TABLE IF NOT EXISTS {table.Sql}
            (
                sink_id String,
                topic String,
                partition Int32,
                generation UInt32,
                entries Array(Tuple(first Int64, last Int64, token_first Int64, token_last Int64, generation UInt32, pending UInt8, landed UInt8)),
                updated_at DateTime64(3, 'UTC'),
                version UInt64
            )
            ENGINE = ReplacingMergeTree(version)
            ORDER BY (sink_id, topic, partition)
            """;
    }

    public Task EnsureCreatedAsync(CancellationToken cancellationToken) => _gateway.ExecuteAsync(CreateTableSql(_table), cancellationToken);

    public async Task<IReadOnlyDictionary<PartitionKey, PartitionState>> LoadAsync(IReadOnlyCollection<PartitionKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var result = new Dictionary<PartitionKey, PartitionState>();
        if (keys.Count == 0)
        {
            return result;
        }

        var pairs = string.Join(", ", keys.Select(k => $"({SqlIdentifier.Literal(k.Topic)}, {k.Partition.ToString(CultureInfo.InvariantCulture)})"));
        var sql =
            $"SELECT topic, partition, generation, " +
            $"arrayStringConcat(arrayMap(e -> concat(toString(e.1), ':', toString(e.2), ':', toString(e.3), ':', toString(e.4), ':', toString(e.5), ':', toString(e.6), ':', toString(e.7)), entries), ',') AS entries " +
            $"FROM {_table.Sql} FINAL WHERE sink_id = {SqlIdentifier.Literal(_sinkId)} AND (topic, partition) IN ({pairs}) FORMAT JSONEachRow";
        var bytes = await _gateway.QueryAsync(sql, cancellationToken);
        foreach (var line in ((ReadOnlyMemory<byte>)bytes).Split())
        {
            using var doc = JsonDocument.Parse(line);
            var row = doc.RootElement;
            var key = new PartitionKey(row.GetProperty("topic").GetString()!, row.GetProperty("partition").GetInt32());
            var generation = (int)row.GetProperty("generation").GetUInt32();
            result[key] = new PartitionState(key, generation, ParseEntries(row.GetProperty("entries").GetString()!));
        }

        return result;
    }

    public async Task SaveAsync(IReadOnlyCollection<PartitionState> states, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(states);
        if (states.Count == 0)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var version = NextVersion(now);
        var body = new ArrayBufferWriter<byte>(256 * states.Count);
        foreach (var s in states)
        {
            body.Write("{\"sink_id\":"u8);
            JsonText.WriteString(body, _sinkId);
            body.Write(",\"topic\":"u8);
            JsonText.WriteString(body, s.Key.Topic);
            body.Write(",\"partition\":"u8);
            JsonText.WriteNumber(body, s.Key.Partition);
            body.Write(",\"generation\":"u8);
            JsonText.WriteNumber(body, s.Generation);
            body.Write(",\"entries\":["u8);
            for (var i = 0; i < s.Entries.Count; i++)
            {
                var e = s.Entries[i];
                if (i > 0)
                {
                    body.Write(","u8);
                }

                body.Write("{\"first\":"u8);
                JsonText.WriteNumber(body, e.Range.First);
                body.Write(",\"last\":"u8);
                JsonText.WriteNumber(body, e.Range.Last);
                body.Write(",\"token_first\":"u8);
                JsonText.WriteNumber(body, e.TokenRange.First);
                body.Write(",\"token_last\":"u8);
                JsonText.WriteNumber(body, e.TokenRange.Last);
                body.Write(",\"generation\":"u8);
                JsonText.WriteNumber(body, e.Generation);
                body.Write(e.Pending ? ",\"pending\":1"u8 : ",\"pending\":0"u8);
                body.Write(e.Landed ? ",\"landed\":1}"u8 : ",\"landed\":0}"u8);
            }

            body.Write("],\"updated_at\":"u8);
            JsonText.WriteTimestamp(body, now.ToUnixTimeMilliseconds());
            body.Write(",\"version\":"u8);
            JsonText.WriteNumber(body, version);
            body.Write("}\n"u8);
        }

        await _gateway.InsertAsync($"INSERT INTO {_table.Sql} FORMAT JSONEachRow", [body.WrittenMemory], WriteSettings, cancellationToken);
    }

    internal static List<StateEntry> ParseEntries(string text)
    {
        var entries = new List<StateEntry>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var p = item.Split(':');
            long L(int i) => long.Parse(p[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            entries.Add(new StateEntry(new OffsetRange(L(0), L(1)), new OffsetRange(L(2), L(3)), (int)L(4), p[5] == "1", p.Length > 6 && p[6] == "1"));
        }

        return entries;
    }

    /// <summary>Microseconds since the epoch, strictly increasing within this process.</summary>
    private long NextVersion(DateTimeOffset now)
    {
        var micros = now.ToUnixTimeMilliseconds() * 1000;
        long last, next;
        do
        {
            last = Interlocked.Read(ref _lastVersion);
            next = Math.Max(micros, last + 1);
        }
        while (Interlocked.CompareExchange(ref _lastVersion, next, last) != last);
        return next;
    }
}

internal static class MemoryLines
{
    /// <summary>Non-empty '\n'-separated lines.</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> Split(this ReadOnlyMemory<byte> text)
    {
        while (!text.IsEmpty)
        {
            var i = text.Span.IndexOf((byte)'\n');
            var line = i < 0 ? text : text[..i];
            text = i < 0 ? ReadOnlyMemory<byte>.Empty : text[(i + 1)..];
            if (!line.Span.Trim((byte)' ').IsEmpty)
            {
                yield return line;
            }
        }
    }
}
