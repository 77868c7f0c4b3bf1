using System.Collections.Frozen;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Configuration;
using MskClickHouse.Core.Delivery;
using MskClickHouse.Core.Events;
using MskClickHouse.Core.Rows;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>
/// The exactly-once protocol's floor: what the sink sends to ClickHouse for a fresh batch, sent by a minimal client
/// (one HttpClient, bodies built before the clock starts). One state read (the sink's query, FINAL over the state
/// table), one state write (every partition's pending entry in one insert, the sink's settings), then one insert per
/// partition under its token with the sink's pinned settings, INSERT_PARALLELISM at a time. Same engine, same rows,
/// same state table as the sink (its own sink_id), into its own copy of the target table.
/// </summary>
internal sealed class ProtocolFloor : IDisposable
{
    /// <summary>Protocol cuts the lead may schedule, measured with the same client (not what the sink does today).</summary>
    public enum Variant
    {
        /// <summary>The sink's protocol: state read, then state write, then the inserts.</summary>
        Full,

        /// <summary>No state read (what a state cache in the process would save when it is valid).</summary>
        NoStateRead,

        /// <summary>The state write sent together with the inserts instead of before them.</summary>
        WriteOverlapsInserts,

        /// <summary>The full protocol plus a second state write after the inserts (the landed mark of tables without offset columns).</summary>
        WithLandedWrite,
    }

    private readonly string _sinkId;

    private readonly HttpClient _http;
    private readonly string _database;
    private readonly string _table;
    private readonly string _stateTable;
    private readonly int _parallelism;

    public ProtocolFloor(EngineClient engine, string database, string table, string sinkId = "floor", int parallelism = 4)
    {
        _sinkId = sinkId;
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = new Uri(engine.Url.GetLeftPart(UriPartial.Authority)),
            Timeout = TimeSpan.FromMinutes(2),
        };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{engine.User}:{engine.Password}")));
        _database = database;
        _table = table;
        _stateTable = $"{database}.kafka_sink_state";
        _parallelism = parallelism;
    }

    /// <summary>One batch's requests, built ahead: nothing of this is timed.</summary>
    internal sealed record Prepared(string StateReadSql, string StateWriteQuery, byte[] StateWriteBody, List<(string Query, byte[] Body, int Rows)> Inserts);

    /// <summary>Decodes and encodes the event as the sink does (same RowEncoder, all seven metadata columns) and builds every request.</summary>
    public Prepared Prepare(byte[] mskEvent)
    {
        var shape = new TableShape(new TableName(_database, _table), (MetadataColumns)127, ValueFormat.Json, "value");
        using var batch = KafkaEventDecoder.Decode(mskEvent);
        var pairs = string.Join(", ", batch.Partitions.Select(p => $"('{p.Topic}', {p.Partition.ToString(CultureInfo.InvariantCulture)})"));
        var read =
            "SELECT topic, partition, generation, " +
            "arrayStringConcat(arrayMap(e -> concat(toString(e.1), ':', toString(e.2), ':', toString(e.3), ':', toString(e.4), ':', toString(e.5), ':', toString(e.6), ':', toString(e.7)), entries), ',') AS entries " +
            $"FROM {_stateTable} FINAL WHERE sink_id = '{_sinkId}' AND (topic, partition) IN ({pairs}) FORMAT JSONEachRow";
        var state = new StringBuilder();
        var now = DateTimeOffset.UtcNow;
        var version = (now.ToUnixTimeMilliseconds() * 1000).ToString(CultureInfo.InvariantCulture);
        var inserts = new List<(string, byte[], int)>();
        foreach (var p in batch.Partitions)
        {
            var first = p.FirstOffset.ToString(CultureInfo.InvariantCulture);
            var last = p.LastOffset.ToString(CultureInfo.InvariantCulture);
            state.Append(CultureInfo.InvariantCulture, $$"""{"sink_id":"{{_sinkId}}","topic":"{{p.Topic}}","partition":{{p.Partition}},"generation":0,"entries":[{"first":{{first}},"last":{{last}},"token_first":{{first}},"token_last":{{last}},"generation":0,"pending":1,"landed":0}],"updated_at":"{{now:yyyy-MM-dd HH:mm:ss.fff}}","version":{{version}}}""").Append('\n');
            using var encoded = RowEncoder.Encode(batch, p, shape, TombstonePolicy.Skip);
            var scope = new TokenScope(_sinkId, SourceIdentity.Of(batch).Hash, 0, Legacy: false);
            var token = DeduplicationToken.ForData(scope, p.Topic, p.Partition, new OffsetRange(p.FirstOffset, p.LastOffset), 0, 0);
            var settings = InsertSettings.For(FrozenDictionary<string, string>.Empty, token, encoded.ByteCount);
            inserts.Add((Query($"INSERT INTO {_database}.{_table} FORMAT JSONEachRow", settings), encoded.Buffer.ToArray(), encoded.RowCount));
        }

        // The state store's write settings: no deduplication (every state write is new), no async insert.
        var stateSettings = new Dictionary<string, string> { ["async_insert"] = "0", ["insert_deduplicate"] = "0", ["date_time_input_format"] = "best_effort" };
        return new Prepared(read, Query($"INSERT INTO {_stateTable} FORMAT JSONEachRow", stateSettings), Encoding.UTF8.GetBytes(state.ToString()), inserts);
    }

    /// <summary>Runs the protocol for one prepared batch; returns the wall time in ms.</summary>
    public async Task<double> RunAsync(Prepared batch, CancellationToken ct, Variant variant = Variant.Full)
    {
        var w = Stopwatch.StartNew();
        if (variant != Variant.NoStateRead)
        {
            using var read = new ByteArrayContent(Encoding.UTF8.GetBytes(batch.StateReadSql));
            await SendAsync(Query(null, null), read, ct);
        }

        if (variant == Variant.WriteOverlapsInserts)
        {
            await Task.WhenAll(WriteStateAsync(batch, ct), InsertAllAsync(batch, ct));
        }
        else
        {
            await WriteStateAsync(batch, ct);
            await InsertAllAsync(batch, ct);
        }

        if (variant == Variant.WithLandedWrite)
        {
            await WriteStateAsync(batch, ct);
        }

        return w.Elapsed.TotalMilliseconds;
    }

    private async Task WriteStateAsync(Prepared batch, CancellationToken ct)
    {
        using var write = new ByteArrayContent(batch.StateWriteBody);
        await SendAsync(batch.StateWriteQuery, write, ct);
    }

    private Task InsertAllAsync(Prepared batch, CancellationToken ct) =>
        Parallel.ForEachAsync(batch.Inserts, new ParallelOptions { MaxDegreeOfParallelism = _parallelism, CancellationToken = ct }, async (insert, c) =>
        {
            using var body = new ByteArrayContent(insert.Body);
            await SendAsync(insert.Query, body, c);
        });

    public void Dispose() => _http.Dispose();

    private async Task SendAsync(string pathAndQuery, HttpContent content, CancellationToken ct)
    {
        using var response = await _http.PostAsync(new Uri(pathAndQuery, UriKind.Relative), content, ct);
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"protocol floor: ClickHouse answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body).Trim()}");
        }
    }

    private string Query(string? sql, IReadOnlyDictionary<string, string>? settings)
    {
        var q = new StringBuilder("/?database=").Append(Uri.EscapeDataString(_database));
        if (sql is not null)
        {
            q.Append("&query=").Append(Uri.EscapeDataString(sql));
        }

        foreach (var (k, v) in settings ?? new Dictionary<string, string>())
        {
            q.Append('&').Append(k).Append('=').Append(Uri.EscapeDataString(v));
        }

        return q.ToString();
    }
}
