namespace MskClickHouse.Core.Delivery;

/// <summary>Capped exponential backoff with full jitter. Pure: the random draw is passed in.</summary>
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
