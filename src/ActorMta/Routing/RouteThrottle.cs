using ActorMta.Config;

namespace ActorMta.Routing;

/// <summary>
/// One destination's throttle, without an actor: how many sessions may be open, whether a
/// message may start now (token buckets), and the feedback that moves the concurrency. A
/// delivered transaction raises the concurrency by one up to the limit; a 421, a failed
/// connection or a lost session halves it and pauses new sessions; after enough consecutive
/// connection failures the destination is suspended. Time is always passed in.
/// </summary>
public sealed class RouteThrottle
{
    readonly TokenBucket? _perMinute;
    readonly TokenBucket? _perHour;

    public RouteThrottle(RouteLimits limits, DateTimeOffset now)
    {
        Limits = limits;
        Concurrency = limits.InitialConnections;
        if (limits.MaxMessagesPerMinute > 0)
            _perMinute = new TokenBucket(limits.MaxMessagesPerMinute / 60.0, now);
        if (limits.MaxMessagesPerHour > 0)
            _perHour = new TokenBucket(limits.MaxMessagesPerHour / 3600.0, now);
    }

    public RouteLimits Limits { get; }

    /// <summary>Sessions allowed now, between 1 and <see cref="RouteLimits.MaxConnections"/>.</summary>
    public int Concurrency { get; private set; }

    /// <summary>Sessions open or being opened.</summary>
    public int Active { get; private set; }

    public int ConsecutiveFailures { get; private set; }
    public DateTimeOffset? PausedUntil { get; private set; }
    public DateTimeOffset? SuspendedUntil { get; private set; }
    public string? LastError { get; private set; }

    public bool IsSuspended(DateTimeOffset now) => SuspendedUntil > now;

    public bool IsPaused(DateTimeOffset now) => PausedUntil > now;

    /// <summary>Whether another session may be opened now.</summary>
    public bool MayOpen(DateTimeOffset now) => !IsSuspended(now) && !IsPaused(now) && Active < Concurrency;

    public void Opened() => Active++;

    public void Closed() => Active = Math.Max(0, Active - 1);

    /// <summary>Whether the rate limits let one more message start now.</summary>
    public bool HasToken(DateTimeOffset now) => (_perMinute?.Has(now) ?? true) && (_perHour?.Has(now) ?? true);

    /// <summary>One message starts: it uses a token of every bucket (call after <see cref="HasToken"/>).</summary>
    public void TakeToken(DateTimeOffset now)
    {
        _perMinute?.Take(now);
        _perHour?.Take(now);
    }

    /// <summary>When the rate limits will next let a message start; <paramref name="now"/> when they do already.</summary>
    public DateTimeOffset NextTokenAt(DateTimeOffset now)
    {
        var wait = TimeSpan.Zero;
        foreach (var bucket in new[] { _perMinute, _perHour })
        {
            if (bucket is not null && bucket.Wait(now) > wait)
                wait = bucket.Wait(now);
        }
        return now + wait;
    }

    /// <summary>A session was opened: the destination answers.</summary>
    public void Connected() => ConsecutiveFailures = 0;

    /// <summary>A transaction went through (whatever each recipient's reply): one more session may help.</summary>
    public void Delivered()
    {
        ConsecutiveFailures = 0;
        Concurrency = Math.Min(Limits.MaxConnections, Concurrency + 1);
    }

    /// <summary>A 421, a failed connection or a lost session: halve the concurrency, pause, and perhaps suspend.</summary>
    /// <returns>Whether this failure suspended the destination.</returns>
    public bool Failed(DateTimeOffset now, string error)
    {
        Concurrency = Math.Max(1, Concurrency / 2);
        LastError = error;
        ConsecutiveFailures++;
        if (Limits.FailurePause > TimeSpan.Zero)
            PausedUntil = now + Limits.FailurePause;
        if (Limits.SuspendAfterFailures > 0 && ConsecutiveFailures >= Limits.SuspendAfterFailures && !IsSuspended(now))
        {
            SuspendedUntil = now + Limits.SuspendFor;
            return true;
        }
        return false;
    }

    public void Suspend(DateTimeOffset now, TimeSpan duration, string reason)
    {
        SuspendedUntil = now + duration;
        LastError = reason;
    }

    /// <summary>Ends a suspension and a pause; the next failure starts counting from zero.</summary>
    public void Resume()
    {
        SuspendedUntil = null;
        PausedUntil = null;
        ConsecutiveFailures = 0;
    }

    /// <summary>
    /// A rate as a bucket that refills continuously. It holds two tokens: messages go out
    /// evenly spaced, and a start a little late (timers are coarse) is made up by the next
    /// one rather than lost, so the average rate is the configured one.
    /// </summary>
    sealed class TokenBucket(double perSecond, DateTimeOffset start)
    {
        const double Capacity = 2;

        // Rounding must not leave a bucket at 0.9999… when its wait is over.
        const double Whole = 1 - 1e-6;
        double _tokens = Capacity;
        DateTimeOffset _at = start;

        public bool Has(DateTimeOffset now) => Refill(now) >= Whole;

        public void Take(DateTimeOffset now)
        {
            Refill(now);
            _tokens -= 1;
        }

        public TimeSpan Wait(DateTimeOffset now)
        {
            var tokens = Refill(now);
            return tokens >= Whole ? TimeSpan.Zero : TimeSpan.FromSeconds((1 - tokens) / perSecond);
        }

        double Refill(DateTimeOffset now)
        {
            if (now > _at)
            {
                _tokens = Math.Min(Capacity, _tokens + (now - _at).TotalSeconds * perSecond);
                _at = now;
            }
            return _tokens;
        }
    }
}
