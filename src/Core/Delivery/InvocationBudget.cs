namespace MskClickHouse.Core.Delivery;

/// <summary>
/// The time one invocation may spend, built once from its deadline: the work (state, inserts, dead letters) until
/// <see cref="GiveUpAt"/>; what decides and records what landed (the check after the inserts, landed marks, replay
/// outcome rows) until <see cref="MarkBy"/>; informational reports until <see cref="ReportBy"/>. Each phase has its
/// token: a request still in flight at the phase's end is abandoned, so the function always answers in time.
/// </summary>
public sealed class InvocationBudget : IDisposable
{
    private readonly List<CancellationTokenSource> _sources = [];

    private InvocationBudget(DateTimeOffset deadline, DateTimeOffset giveUpAt, TimeProvider time, CancellationToken invocation, bool timed)
    {
        Time = time;
        Deadline = deadline;
        GiveUpAt = giveUpAt;
        MarkBy = giveUpAt + ((deadline - giveUpAt) / 2);
        ReportBy = giveUpAt + ((deadline - giveUpAt) * 3 / 4);
        var now = time.GetUtcNow();
        Work = timed ? Until(GiveUpAt, now, invocation) : invocation;
        Marking = timed ? Until(MarkBy, now, invocation) : invocation;
        Reporting = timed ? Until(ReportBy, now, invocation) : invocation;
    }

    public TimeProvider Time { get; }

    /// <summary>The Runtime API's deadline of the invocation.</summary>
    public DateTimeOffset Deadline { get; }

    /// <summary>No retry starts whose wait would end after this instant; the work phase ends here.</summary>
    public DateTimeOffset GiveUpAt { get; }

    /// <summary>Half-way from <see cref="GiveUpAt"/> to the deadline: the check after the inserts and the landed marks end here.</summary>
    public DateTimeOffset MarkBy { get; }

    /// <summary>Three quarters of the way from <see cref="GiveUpAt"/> to the deadline: informational reports end here.</summary>
    public DateTimeOffset ReportBy { get; }

    /// <summary>Cancelled at <see cref="GiveUpAt"/> (or when the invocation is).</summary>
    public CancellationToken Work { get; }

    /// <summary>Cancelled at <see cref="MarkBy"/> (or when the invocation is).</summary>
    public CancellationToken Marking { get; }

    /// <summary>Cancelled at <see cref="ReportBy"/> (or when the invocation is).</summary>
    public CancellationToken Reporting { get; }

    /// <summary>True once <see cref="GiveUpAt"/> has passed.</summary>
    public bool IsSpent => Time.GetUtcNow() >= GiveUpAt;

    /// <summary>When bad-row isolation stops to leave time for writing its dead letters: a quarter of what is left, at most 2 s, before giving up.</summary>
    public DateTimeOffset IsolationStopAt
    {
        get
        {
            var reserve = (GiveUpAt - Time.GetUtcNow()) / 4;
            return GiveUpAt - (reserve > TimeSpan.FromSeconds(2) ? TimeSpan.FromSeconds(2) : reserve < TimeSpan.Zero ? TimeSpan.Zero : reserve);
        }
    }

    /// <summary>The budget of an invocation whose Runtime API deadline is <paramref name="deadline"/>.</summary>
    public static InvocationBudget FromDeadline(DateTimeOffset deadline, TimeSpan safetyMargin, TimeProvider time, CancellationToken invocation)
    {
        ArgumentNullException.ThrowIfNull(time);
        return new InvocationBudget(deadline, GiveUpAtFor(deadline, time.GetUtcNow(), safetyMargin), time, invocation, timed: true);
    }

    /// <summary>
    /// Start-up's budget: transient failures are retried for <paramref name="span"/>; a request in flight is not cut
    /// (the Runtime API's init timeout bounds start-up).
    /// </summary>
    public static InvocationBudget StartUp(TimeSpan span, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        var end = time.GetUtcNow() + span;
        return new InvocationBudget(end, end, time, cancellationToken, timed: false);
    }

    /// <summary>
    /// When retries stop: the configured margin before the deadline, but never more than a quarter of the time left,
    /// so a function with a short timeout still retries a transient failure.
    /// </summary>
    public static DateTimeOffset GiveUpAtFor(DateTimeOffset deadline, DateTimeOffset now, TimeSpan margin)
    {
        var quarter = (deadline - now) / 4;
        return deadline - (quarter < margin ? (quarter > TimeSpan.Zero ? quarter : TimeSpan.Zero) : margin);
    }

    public void Dispose()
    {
        foreach (var s in _sources)
        {
            s.Dispose();
        }

        _sources.Clear();
    }

    private CancellationToken Until(DateTimeOffset end, DateTimeOffset now, CancellationToken invocation)
    {
        var left = end - now;
        var timer = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero, Time);
        var linked = CancellationTokenSource.CreateLinkedTokenSource(invocation, timer.Token);
        _sources.Add(timer);
        _sources.Add(linked);
        return linked.Token;
    }
}
