using MskClickHouse.Core.ClickHouse;





namespace MskClickHouse.Core.Delivery;

/// <summary>
/// Capped exponential backoff with full jitter. Pure: the random draw is passed in.
/// </summary>
public sealed record RetryPolicy(TimeSpan BaseDelay, TimeSpan MaxDelay)
{
    public static RetryPolicy Default { get; } = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));

    /// <summary>The wait before retry number <paramref name="attempt"/> (0 = first retry), given a draw in [0, 1).</summary>
    public TimeSpan Delay(int attempt, double random01)
    {
        var cap = Math.Min(MaxDelay.TotalMilliseconds, BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(cap * Math.Clamp(random01, 0, 1));
    }
}

/// <summary>Runs a ClickHouse call, retrying transient failures until the invocation's deadline (minus a margin).</summary>
public sealed class Retrier
{
    private readonly RetryPolicy _policy;
    private readonly TimeProvider _time;
    private readonly Func<double> _random;

    public Retrier(RetryPolicy policy, TimeProvider time, Func<double> random)
    {
        _policy = policy;
        _time = time;
        _random = random;
    }

    /// <param name="giveUpAt">No retry is started whose wait would end after this instant.</param>
    /// <param name="onRetry">Told of each transient failure before the wait (for logging).</param>
    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, DateTimeOffset giveUpAt, Action<ClickHouseException, int, TimeSpan>? onRetry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call(cancellationToken);
            }
            catch (ClickHouseException e) when (e.IsRetryable)
            {
                var delay = _policy.Delay(attempt, _random());
                if (_time.GetUtcNow() + delay >= giveUpAt)
                {
                    throw;
                }

                onRetry?.Invoke(e, attempt + 1, delay);
                await Task.Delay(delay, _time, cancellationToken);
            }
        }
    }
}
