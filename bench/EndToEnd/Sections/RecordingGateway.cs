using MskClickHouse.Core.ClickHouse;

namespace MskClickHouse.Bench.EndToEnd.Sections;

/// <summary>One request as the sink's code hands it to its gateway: the SQL, the body (inserts; a fenced state write is a statement) and the settings.</summary>
internal sealed record GatewayCall(string Sql, byte[]? Body, IReadOnlyDictionary<string, string> Settings)
{
    public bool IsInsert => Body is not null;
}

/// <summary>
/// Records what the sink's own builders (the state store, the insert settings) would send, and answers like an empty
/// engine (no rows, no summary) or forwards to a real gateway. The floor builds its requests through it, so it cannot
/// drift from the sink; the bench test compares the sink's recorded requests with the floor's.
/// </summary>
internal sealed class RecordingGateway(IClickHouseGateway? inner = null) : IClickHouseGateway
{
    private readonly List<GatewayCall> _calls = [];

    public List<GatewayCall> Take()
    {
        lock (_calls)
        {
            var copy = _calls.ToList();
            _calls.Clear();
            return copy;
        }
    }

    public Task<InsertResult> InsertAsync(string insertSql, IReadOnlyList<ReadOnlyMemory<byte>> body, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var bytes = new List<byte>();
        foreach (var segment in body)
        {
            bytes.AddRange(segment.Span);
        }

        Add(new GatewayCall(insertSql, [.. bytes], new Dictionary<string, string>(settings)));
        return inner?.InsertAsync(insertSql, body, settings, cancellationToken) ?? Task.FromResult(default(InsertResult));
    }

    public Task<byte[]> QueryAsync(string sql, CancellationToken cancellationToken)
    {
        Add(new GatewayCall(sql, null, new Dictionary<string, string>()));
        return inner?.QueryAsync(sql, cancellationToken) ?? Task.FromResult(Array.Empty<byte>());
    }

    public Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        Add(new GatewayCall(sql, null, new Dictionary<string, string>()));
        return inner?.ExecuteAsync(sql, cancellationToken) ?? Task.CompletedTask;
    }

    public Task ExecuteAsync(string sql, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken)
    {
        Add(new GatewayCall(sql, null, new Dictionary<string, string>(settings)));
        return inner?.ExecuteAsync(sql, settings, cancellationToken) ?? Task.CompletedTask;
    }

    private void Add(GatewayCall call)
    {
        lock (_calls)
        {
            _calls.Add(call);
        }
    }
}
