using System.Net;
using ActorMta.Config;
using ActorMta.Edge;

namespace ActorMta.Tests.Edge;

public sealed class AuthThrottleTests
{
    readonly ManualClock _clock = new();
    readonly AuthThrottle _throttle;
    static readonly IPAddress Guesser = IPAddress.Parse("192.0.2.7");

    public AuthThrottleTests() => _throttle = new AuthThrottle(new AuthSettings
    {
        FailureDelay = TimeSpan.FromSeconds(2),
        MaxFailures = 3,
        FailureWindow = TimeSpan.FromMinutes(10),
        Lockout = TimeSpan.FromMinutes(15),
    }, _clock);

    [Fact]
    public void the_third_failure_within_the_window_locks_the_address_out_for_the_lockout()
    {
        Assert.Null(_throttle.RecordFailure(Guesser));
        Assert.Null(_throttle.RecordFailure(Guesser));
        Assert.Null(_throttle.LockedUntil(Guesser));

        var until = _throttle.RecordFailure(Guesser);

        Assert.Equal(_clock.Now + TimeSpan.FromMinutes(15), until);
        Assert.Equal(until, _throttle.LockedUntil(Guesser));
        Assert.Null(_throttle.LockedUntil(IPAddress.Parse("192.0.2.8")));
    }

    [Fact]
    public void the_lockout_ends_by_itself()
    {
        for (var i = 0; i < 3; i++)
            _throttle.RecordFailure(Guesser);

        _clock.Now += TimeSpan.FromMinutes(15);

        Assert.Null(_throttle.LockedUntil(Guesser));
    }

    [Fact]
    public void failures_spread_wider_than_the_window_do_not_lock_out()
    {
        _throttle.RecordFailure(Guesser);
        _throttle.RecordFailure(Guesser);
        _clock.Now += TimeSpan.FromMinutes(11);

        Assert.Null(_throttle.RecordFailure(Guesser));
        Assert.Null(_throttle.LockedUntil(Guesser));
    }

    sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
