using MskClickHouse.Core.ClickHouse;
using MskClickHouse.Core.Logging;

namespace MskClickHouse.Core.Delivery;

/// <summary>
/// Runs a ClickHouse call within an <see cref="InvocationBudget"/>'s phase, retrying transient failures with
/// <see cref="RetryPolicy"/> backoff while a retry's wait ends before the phase does; each retry is logged with what
/// the call is about (<see cref="About"/>).
/// </summary>
public sealed class Retrier
{
    private readonly InvocationBudget _budget;
    private readonly ISinkLog _log;
    private readonly Func<double> _random;
    private readonly RetryPolicy _policy;
    private readonly DateTimeOffset _until;
    private readonly CancellationToken _token;
    private readonly LogFields _about;

    /// <summary>Retries in the budget's work phase (until <see cref="InvocationBudget.GiveUpAt"/>).</summary>
    public Retrier(InvocationBudget budget, ISinkLog log, Func<double> random, RetryPolicy? policy = null)
        : this(budget, log, random, policy ?? RetryPolicy.Default, budget.GiveUpAt, budget.Work, default)
    {
    }

    private Retrier(InvocationBudget budget, ISinkLog log, Func<double> random, RetryPolicy policy, DateTimeOffset until, CancellationToken token, LogFields about)
    {
        ArgumentNullException.ThrowIfNull(budget);
        _budget = budget;
        _log = log;
        _random = random;
        _policy = policy;
        _until = until;
        _token = token;
        _about = about;
    }

    /// <summary>The budget this retrier is bound to.</summary>
    public InvocationBudget Budget => _budget;

    /// <summary>The phase's token: what the calls are cancelled with.</summary>
    public CancellationToken Token => _token;

    /// <summary>The same retrier in the marking phase (until <see cref="InvocationBudget.MarkBy"/>).</summary>
    public Retrier Marking => new(_budget, _log, _random, _policy, _budget.MarkBy, _budget.Marking, _about);

    /// <summary>The same retrier, its retries logged with these fields (a partition, a table).</summary>
    public Retrier About(LogFields about) => new(_budget, _log, _random, _policy, _until, _token, about);

    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call(_token);
            }
            catch (ClickHouseException e) when (e.IsRetryable)
            {
                var delay = _policy.Delay(attempt, _random());
                if (_budget.Time.GetUtcNow() + delay >= _until)
                {
                    throw;
                }

                _log.Write(
                    LogLevel.Warning,
                    $"transient ClickHouse failure, retrying: {e.Message}",
                    _about with { ErrorCode = e.ServerCode, Numbers = [new("attempt", attempt + 1), new("delay_ms", (long)delay.TotalMilliseconds)] });
                await Task.Delay(delay, _budget.Time, _token);
            }
        }
    }

    public Task RunAsync(Func<CancellationToken, Task> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return RunAsync(async c =>
        {
            await call(c);
            return true;
        });
    }
}
