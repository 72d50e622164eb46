using ActorMta.Config;

namespace ActorMta.Queue;

/// <summary>
/// When to try a temporarily failed delivery again: never sooner than the first interval,
/// then less and less often (the operator's guide: at least five minutes, decreasing frequency).
/// </summary>
public sealed record RetrySchedule(TimeSpan FirstRetry, double BackoffFactor, TimeSpan MaxInterval)
{
    public static RetrySchedule From(QueueSettings queue) => new(queue.FirstRetry, queue.BackoffFactor, queue.MaxRetryInterval);

    /// <param name="failedAttempts">Attempts that have failed so far, at least 1.</param>
    public TimeSpan IntervalAfter(int failedAttempts)
    {
        var interval = FirstRetry.TotalSeconds * Math.Pow(BackoffFactor, Math.Max(0, failedAttempts - 1));
        return TimeSpan.FromSeconds(Math.Min(interval, MaxInterval.TotalSeconds));
    }
}
