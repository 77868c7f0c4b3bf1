using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace MskClickHouse.Simulation;

/// <summary>What the fault layer does to one request.</summary>
public enum Fault
{
    None,

    /// <summary>Answer 503 with ClickHouse code 202 without forwarding: the server never saw it.</summary>
    RefuseBeforeSending,

    /// <summary>Forward, let the server apply it, then drop the answer (connection reset).</summary>
    LoseAnswerAfterApplying,

    /// <summary>Wait <see cref="FaultInjectingHandler.Delay"/> before forwarding (a slow server or network).</summary>
    Delay,

    /// <summary>
    /// An insert "applied late": the connection drops at once without an answer, and the server applies the insert
    /// 0.5–3 s later (it had received the whole request and went on executing it after the client gave up).
    /// </summary>
    LateApply,

    /// <summary>
    /// An insert acknowledged by a replica that the replica serving ordinary reads has not fetched yet: it is checked
    /// (a data error is answered as the server would), acknowledged, and applied 0.3–2 s later; a read that asks for
    /// <c>select_sequential_consistency=1</c> first applies every insert held so far (the replica catches up).
    /// </summary>
    LagReplica,

    /// <summary>
    /// <see cref="LateApply"/> at an instant the test chooses: the connection drops at once without an answer, and the
    /// server applies the insert when <see cref="FaultInjectingHandler.ApplyLateNowAsync"/> (or DrainAsync) is called.
    /// Lets a test replay "a late apply lands after a later invocation's inserts" step by step, not by timing.
    /// </summary>
    LateApplyOnRelease,
}

/// <summary>
/// An HTTP layer between the sink's ClickHouse client and the engine that injects the failures that matter for
/// exactly-once delivery. Decisions and delays come from the given function and seeded random source, so runs are
/// repeatable (up to thread timing). <see cref="DrainAsync"/> applies whatever is still held or scheduled.
/// </summary>
public sealed partial class FaultInjectingHandler : DelegatingHandler
{
    private readonly List<Held> _held = [];
    private readonly List<(HttpRequestMessage Request, string Sql)> _lateOnRelease = [];
    private readonly List<Task> _background = [];
    private readonly TimeProvider _time;
    private readonly HashSet<string> _shadows = [];
    private int _refused;
    private int _lost;
    private int _delayed;
    private int _late;
    private int _lagged;
    private int _lagFlushes;

    public FaultInjectingHandler(HttpMessageHandler inner, Func<HttpRequestMessage, Fault> decide, int seed = 0, TimeProvider? time = null)
        : base(inner)
    {
        Decide = decide;
        var random = new Random(seed);
        Random = () =>
        {
            lock (random)
            {
                return random.NextDouble();
            }
        };
        _time = time ?? TimeProvider.System;
    }

    public Func<HttpRequestMessage, Fault> Decide { get; set; }

    /// <summary>The random source of the delays (seeded).</summary>
    public Func<double> Random { get; set; }

    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Remove X-ClickHouse-Summary from every answer (some proxies and servers do not send it).</summary>
    public bool StripSummary { get; set; }

    public int Refused => _refused;

    public int Lost => _lost;

    public int Delayed => _delayed;

    /// <summary>Inserts whose answer was dropped and that were applied later.</summary>
    public int LateApplied => _late;

    /// <summary>Inserts acknowledged before they became visible to ordinary reads.</summary>
    public int Lagged => _lagged;

    /// <summary>Sequentially consistent reads that found held inserts and applied them first.</summary>
    public int LagFlushes => _lagFlushes;

    /// <summary>
    /// True when the request is an INSERT: the query is in the URL (rows in the body), or, for a statement sent as the
    /// body (an <c>INSERT … SELECT</c> such as the fenced state write), at the start of the body.
    /// </summary>
    public static bool IsInsert(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Uri.UnescapeDataString(request.RequestUri?.Query ?? string.Empty).Contains("INSERT", StringComparison.OrdinalIgnoreCase)
            || (request.Options.TryGetValue(StatementHead, out var head) && head.TrimStart().StartsWith("INSERT", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// What a decision can look at: the URL query (unescaped; for an insert, its SQL and settings) and, for a statement
    /// sent as the body, its first 4,096 characters (read when the request reached this handler).
    /// </summary>
    public static string SqlText(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = Uri.UnescapeDataString((request.RequestUri?.Query ?? string.Empty).Replace('+', ' '));
        return request.Options.TryGetValue(StatementHead, out var head) ? query + "\n" + head : query;
    }

    private static readonly HttpRequestOptionsKey<string> StatementHead = new("MskClickHouse.Simulation.StatementHead");

    /// <summary>Keeps the start of a statement sent as the body (no query in the URL) for <see cref="SqlText"/>.</summary>
    private static async Task NoteStatementAsync(HttpRequestMessage request)
    {
        if (request.Content is null || Uri.UnescapeDataString(request.RequestUri?.Query ?? string.Empty).Contains("query=", StringComparison.Ordinal))
        {
            return;
        }

        var sql = await SqlOfAsync(request);
        var body = sql[(sql.IndexOf('\n', StringComparison.Ordinal) + 1)..];
        request.Options.Set(StatementHead, body.Length <= 4096 ? body : body[..4096]);
    }

    /// <summary>
    /// Applies now, in the order they were sent, the inserts dropped with <see cref="Fault.LateApplyOnRelease"/> whose SQL
    /// (URL query, line feed, body) <paramref name="which"/> selects (all by default); returns how many. The server's
    /// answer to each (a duplicate dropped, a data error) is discarded, as for any late apply.
    /// </summary>
    public async Task<int> ApplyLateNowAsync(Func<string, bool>? which = null)
    {
        List<(HttpRequestMessage Request, string Sql)> due;
        lock (_lateOnRelease)
        {
            due = _lateOnRelease.Where(l => which is null || which(l.Sql)).ToList();
            _lateOnRelease.RemoveAll(due.Contains);
        }

        foreach (var (request, _) in due)
        {
            await SendQuietlyAsync(request);
        }

        return due.Count;
    }

    /// <summary>Applies every held and late insert now and waits for them (end of a run, before counting rows).</summary>
    public async Task DrainAsync()
    {
        await ApplyLateNowAsync();
        await FlushHeldAsync(CancellationToken.None);
        Task[] pending;
        lock (_background)
        {
            pending = [.. _background];
        }

        await Task.WhenAll(pending);
        await FlushHeldAsync(CancellationToken.None);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await SendFaultyAsync(request, cancellationToken);
        if (StripSummary)
        {
            response.Headers.Remove("X-ClickHouse-Summary");
        }

        return response;
    }

    /// <summary>
    /// Runs before each request is faulted or forwarded, with the request's SQL (URL query and body): a test can hold
    /// one invocation at a chosen request while another runs, or make the server merge parts at that instant, so an
    /// interleaving is reproduced step by step instead of by timing.
    /// </summary>
    public Func<string, CancellationToken, Task>? BeforeSendAsync { get; set; }

    /// <summary>The SQL of a request: its URL query (unescaped) followed by its body; the body stays readable.</summary>
    public static async Task<string> SqlOfAsync(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var query = Uri.UnescapeDataString((request.RequestUri?.Query ?? string.Empty).Replace('+', ' '));
        if (request.Content is null)
        {
            return query;
        }

        var bytes = await request.Content.ReadAsByteArrayAsync();
        var headers = request.Content.Headers.ToList();
        request.Content = new ByteArrayContent(bytes);
        foreach (var h in headers)
        {
            request.Content.Headers.TryAddWithoutValidation(h.Key, h.Value);
        }

        return query + "\n" + Encoding.UTF8.GetString(bytes);
    }

    private async Task<HttpResponseMessage> SendFaultyAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await NoteStatementAsync(request);
        if (BeforeSendAsync is { } step)
        {
            await step(await SqlOfAsync(request), cancellationToken);
        }

        if (await AsksSequentialConsistencyAsync(request))
        {
            // The serving replica catches up with every acknowledged insert before it answers (a fenced state write too:
            // its SELECT of the newest version is sequentially consistent).
            if (await FlushHeldAsync(cancellationToken))
            {
                Interlocked.Increment(ref _lagFlushes);
            }
        }

        switch (Decide(request))
        {
            case Fault.RefuseBeforeSending:
                Interlocked.Increment(ref _refused);
                var refused = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                {
                    Content = new StringContent("Code: 202. DB::Exception: Too many simultaneous queries (injected fault). (TOO_MANY_SIMULTANEOUS_QUERIES)"),
                    RequestMessage = request,
                };
                refused.Headers.Add("X-ClickHouse-Exception-Code", "202");
                return refused;
            case Fault.LoseAnswerAfterApplying:
                Interlocked.Increment(ref _lost);
                using (var applied = await base.SendAsync(request, cancellationToken))
                {
                    await applied.Content.LoadIntoBufferAsync(cancellationToken);
                }

                throw new HttpRequestException("injected fault: the connection was reset after the server applied the request");
            case Fault.Delay:
                Interlocked.Increment(ref _delayed);
                await Task.Delay(Delay, _time, cancellationToken);
                return await base.SendAsync(request, cancellationToken);
            case Fault.LateApply when IsInsert(request):
            {
                Interlocked.Increment(ref _late);
                var copy = await CopyAsync(request, request.RequestUri!);
                var after = TimeSpan.FromMilliseconds(500 + (2500 * Random()));
                Track(Task.Run(async () =>
                {
                    await Task.Delay(after, _time);
                    await SendQuietlyAsync(copy);
                }, CancellationToken.None));
                throw new HttpRequestException("injected fault: the connection dropped without an answer (the server will apply the insert later)");
            }

            case Fault.LateApplyOnRelease when IsInsert(request):
            {
                Interlocked.Increment(ref _late);
                var copy = await CopyAsync(request, request.RequestUri!);
                var sql = await SqlOfAsync(copy);
                lock (_lateOnRelease)
                {
                    _lateOnRelease.Add((copy, sql));
                }

                throw new HttpRequestException("injected fault: the connection dropped without an answer (the server applies the insert when the test releases it)");
            }

            case Fault.LagReplica when IsInsert(request):
                // An INSERT … SELECT (the fenced state write, quorum-acknowledged on a Replicated table and read back
                // sequentially consistent on Cloud) is applied at once: HoldAsync finds no rows in a URL to hold.
                return await HoldAsync(request, cancellationToken);
            default:
                return await base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>
    /// Checks the insert against a copy of its table (so a data error is answered now, as the receiving replica would),
    /// acknowledges it, and holds it for 0.3–2 s before it reaches the table itself.
    /// </summary>
    private async Task<HttpResponseMessage> HoldAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri!;
        var query = Uri.UnescapeDataString(uri.Query.Replace('+', ' '));
        var m = InsertTarget().Match(query);
        if (!m.Success)
        {
            return await base.SendAsync(request, cancellationToken);
        }

        var table = m.Groups[1].Value;
        var shadow = table.EndsWith('`') ? table[..^1] + "__lag_check`" : table + "__lag_check";
        await EnsureShadowAsync(request, table, shadow, cancellationToken);
        var original = await CopyAsync(request, uri);
        var parameters = uri.Query.TrimStart('?').Split('&').Select(p =>
        {
            var eq = p.IndexOf('=', StringComparison.Ordinal);
            return eq < 0 ? p : p[..(eq + 1)] + Uri.EscapeDataString(Uri.UnescapeDataString(p[(eq + 1)..].Replace('+', ' ')).Replace(table, shadow, StringComparison.Ordinal));
        });
        var checkUri = new UriBuilder(uri) { Query = string.Join('&', parameters) }.Uri;
        var check = await CopyAsync(request, checkUri);
        var answer = await base.SendAsync(check, cancellationToken);
        if (!answer.IsSuccessStatusCode)
        {
            return answer;
        }

        Interlocked.Increment(ref _lagged);
        var held = new Held(original);
        lock (_held)
        {
            _held.Add(held);
        }

        var after = TimeSpan.FromMilliseconds(300 + (1700 * Random()));
        Track(Task.Run(async () =>
        {
            await Task.Delay(after, _time);
            await ReleaseAsync(held, CancellationToken.None);
        }, CancellationToken.None));
        return answer;
    }

    private async Task EnsureShadowAsync(HttpRequestMessage request, string table, string shadow, CancellationToken cancellationToken)
    {
        lock (_shadows)
        {
            if (_shadows.Contains(shadow))
            {
                return;
            }
        }

        var ddl = new UriBuilder(request.RequestUri!) { Query = string.Empty }.Uri;
        using var create = new HttpRequestMessage(HttpMethod.Post, ddl) { Content = new StringContent($"CREATE TABLE IF NOT EXISTS {shadow} AS {table}") };
        foreach (var h in request.Headers)
        {
            // The credentials travel as headers.
            create.Headers.TryAddWithoutValidation(h.Key, h.Value);
        }

        using var created = await base.SendAsync(create, cancellationToken);
        created.EnsureSuccessStatusCode();
        lock (_shadows)
        {
            _shadows.Add(shadow);
        }
    }

    private async Task<bool> FlushHeldAsync(CancellationToken cancellationToken)
    {
        List<Held> all;
        lock (_held)
        {
            all = [.. _held];
        }

        foreach (var h in all)
        {
            await ReleaseAsync(h, cancellationToken);
        }

        return all.Count > 0;
    }

    private async Task ReleaseAsync(Held held, CancellationToken cancellationToken)
    {
        await held.Gate.WaitAsync(cancellationToken);
        try
        {
            if (held.Applied)
            {
                return;
            }

            await SendQuietlyAsync(held.Request);
            held.Applied = true;
            lock (_held)
            {
                _held.Remove(held);
            }
        }
        finally
        {
            held.Gate.Release();
        }
    }

    private async Task SendQuietlyAsync(HttpRequestMessage request)
    {
        using var response = await base.SendAsync(request, CancellationToken.None);
        await response.Content.LoadIntoBufferAsync();
    }

    private void Track(Task task)
    {
        lock (_background)
        {
            _background.RemoveAll(t => t.IsCompleted);
            _background.Add(task);
        }
    }

    private static async Task<HttpRequestMessage> CopyAsync(HttpRequestMessage request, Uri uri)
    {
        var copy = new HttpRequestMessage(request.Method, uri);
        foreach (var h in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(h.Key, h.Value);
        }

        if (request.Content is { } content)
        {
            var bytes = await content.ReadAsByteArrayAsync();
            request.Content = new ByteArrayContent(bytes);
            copy.Content = new ByteArrayContent(bytes);
            foreach (var h in content.Headers)
            {
                request.Content.Headers.TryAddWithoutValidation(h.Key, h.Value);
                copy.Content.Headers.TryAddWithoutValidation(h.Key, h.Value);
            }
        }

        return copy;
    }

    private static async Task<bool> AsksSequentialConsistencyAsync(HttpRequestMessage request)
    {
        const string Setting = "select_sequential_consistency";
        var query = Uri.UnescapeDataString(request.RequestUri?.Query ?? string.Empty);
        if (query.Contains(Setting, StringComparison.Ordinal))
        {
            return true;
        }

        if (request.Content is null || query.Contains("query=", StringComparison.Ordinal))
        {
            // An insert's body holds rows, not SQL.
            return false;
        }

        var bytes = await request.Content.ReadAsByteArrayAsync();
        var headers = request.Content.Headers.ToList();
        request.Content = new ByteArrayContent(bytes);
        foreach (var h in headers)
        {
            request.Content.Headers.TryAddWithoutValidation(h.Key, h.Value);
        }

        return Encoding.UTF8.GetString(bytes).Contains(Setting, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"INSERT INTO ((?:`[^`]+`|\w+)\.(?:`[^`]+`|\w+))", RegexOptions.CultureInvariant)]
    private static partial Regex InsertTarget();

    private sealed class Held(HttpRequestMessage request)
    {
        public HttpRequestMessage Request { get; } = request;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public bool Applied { get; set; }
    }
}
