using System.Diagnostics;
using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Logging;
using MskClickHouse.Core.Metrics;

namespace MskClickHouse.Bench.EndToEnd;

/// <summary>Times every gateway call (start/end since a common origin) and sorts it: row inserts, state, other queries.</summary>
internal sealed class TimingGateway(IClickHouseGateway inner, string stateTable) : IClickHouseGateway
{
    private readonly List<(string Kind, double Start, double End)> _calls = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public List<(string Kind, double Start, double End)> TakeCalls()
    {
        lock (_calls)
        {
            var copy = _calls.ToList();
            _calls.Clear();
            return copy;
        }
    }

    public double NowMs => _clock.Elapsed.TotalMilliseconds;

    public Task<InsertResult> InsertAsync(string insertSql, IReadOnlyList<ReadOnlyMemory<byte>> body, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken) =>
        Time(Kind(insertSql, insert: true), () => inner.InsertAsync(insertSql, body, settings, cancellationToken));

    public Task<byte[]> QueryAsync(string sql, CancellationToken cancellationToken) =>
        Time(Kind(sql, insert: false), () => inner.QueryAsync(sql, cancellationToken));

    public Task ExecuteAsync(string sql, CancellationToken cancellationToken) =>
        Time(Kind(sql, insert: false), async () =>
        {
            await inner.ExecuteAsync(sql, cancellationToken);
            return 0;
        });

    public Task ExecuteAsync(string sql, IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken) =>
        Time(Kind(sql, insert: sql.StartsWith("INSERT", StringComparison.Ordinal)), async () =>
        {
            await inner.ExecuteAsync(sql, settings, cancellationToken);
            return 0;
        });

    // The state store's load reads with FINAL; its read-back of concurrent plans (after the state write) reads every
    // version since the load, without FINAL.
    private string Kind(string sql, bool insert) =>
        sql.Contains(stateTable, StringComparison.Ordinal) ? (insert ? "state write" : sql.Contains(" FINAL ", StringComparison.Ordinal) ? "state read" : "state read-back")
        : insert ? "row insert" : "other query";

    private async Task<T> Time<T>(string kind, Func<Task<T>> call)
    {
        var start = NowMs;
        try
        {
            return await call();
        }
        finally
        {
            var end = NowMs;
            lock (_calls)
            {
                _calls.Add((kind, start, end));
            }
        }
    }
}

internal sealed class NullLog : ISinkLog
{
    public bool IsEnabled(LogLevel level) => level >= LogLevel.Warning;

    public void Write(LogLevel level, string message, in LogFields fields = default, Exception? exception = null)
    {
        if (level >= LogLevel.Warning)
        {
            Console.Error.WriteLine($"in-process sink {level}: {message}");
        }
    }
}

internal sealed class NullMetrics : IMetricsSink
{
    public void Publish(InvocationMetrics metrics)
    {
    }
}
