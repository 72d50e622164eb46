namespace ActorMta.Queue;

/// <summary>
/// When to try a temporarily failed delivery again: never sooner than the first interval,
/// then less and less often (the operator's guide: at least five minutes, decreasing
/// frequency, give up after days). Each time is jittered so that the mail queued for a
/// destination that comes back does not all arrive in the same second.
/// </summary>
/// <param name="Jitter">Fraction of the interval by which a retry may move either way (0.15 = ±15%).</param>
/// <param name="MaxAge">How long a message may stay in the queue before it is returned as undeliverable.</param>
public sealed record RetrySchedule(TimeSpan FirstRetry, double BackoffFactor, TimeSpan MaxInterval, double Jitter, TimeSpan MaxAge)
{
    /// <param name="failedAttempts">Attempts that have failed so far, at least 1.</param>
    public TimeSpan IntervalAfter(int failedAttempts)
    {
        var interval = FirstRetry.TotalSeconds * Math.Pow(BackoffFactor, Math.Max(0, failedAttempts - 1));
        return TimeSpan.FromSeconds(Math.Min(interval, MaxInterval.TotalSeconds));
    }

    /// <param name="random">A number in [0, 1).</param>
    public DateTimeOffset NextAttempt(int failedAttempts, DateTimeOffset now, double random)
    {
        var interval = IntervalAfter(failedAttempts);
        var jittered = interval * (1 + Jitter * (2 * random - 1));
        return now + (jittered < FirstRetry ? FirstRetry : jittered);
    }
}
