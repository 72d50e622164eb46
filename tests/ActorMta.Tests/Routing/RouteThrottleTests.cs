using ActorMta.Config;
using ActorMta.Routing;

namespace ActorMta.Tests.Routing;

/// <summary>The throttle's rules, with time passed in: no actor system, no network.</summary>
public sealed class RouteThrottleTests
{
    static readonly DateTimeOffset Start = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    static RouteLimits Limits(int maxConnections = 20, int initial = 5, int perMinute = 0, int perHour = 0, int suspendAfter = 5) =>
        new(maxConnections, initial, 100, 100, perMinute, perHour,
            ConnectTimeout: TimeSpan.FromSeconds(30), CommandTimeout: TimeSpan.FromMinutes(5), IdleTimeout: TimeSpan.FromSeconds(5),
            FailurePause: TimeSpan.FromSeconds(10), SuspendAfterFailures: suspendAfter, SuspendFor: TimeSpan.FromMinutes(5));

    [Fact]
    public void sessions_open_up_to_the_current_concurrency_and_no_further()
    {
        var throttle = new RouteThrottle(Limits(maxConnections: 3, initial: 3), Start);

        for (var i = 0; i < 3; i++)
        {
            Assert.True(throttle.MayOpen(Start));
            throttle.Opened();
        }

        Assert.False(throttle.MayOpen(Start));
        throttle.Closed();
        Assert.True(throttle.MayOpen(Start));
    }

    [Fact]
    public void each_delivered_transaction_raises_the_concurrency_by_one_up_to_the_limit()
    {
        var throttle = new RouteThrottle(Limits(maxConnections: 7, initial: 5), Start);

        throttle.Delivered();
        Assert.Equal(6, throttle.Concurrency);
        throttle.Delivered();
        throttle.Delivered();

        Assert.Equal(7, throttle.Concurrency);
    }

    [Fact]
    public void a_failure_halves_the_concurrency_down_to_one_and_pauses_new_sessions()
    {
        var throttle = new RouteThrottle(Limits(initial: 5, suspendAfter: 0), Start);

        throttle.Failed(Start, "421 4.7.0 try again later");
        Assert.Equal(2, throttle.Concurrency);
        throttle.Failed(Start, "421 4.7.0 try again later");
        throttle.Failed(Start, "421 4.7.0 try again later");

        Assert.Equal(1, throttle.Concurrency);
        Assert.False(throttle.MayOpen(Start.AddSeconds(9)));
        Assert.True(throttle.MayOpen(Start.AddSeconds(10)));
        Assert.Equal("421 4.7.0 try again later", throttle.LastError);
    }

    [Fact]
    public void consecutive_connection_failures_suspend_the_destination_and_a_success_resets_the_count()
    {
        var throttle = new RouteThrottle(Limits(suspendAfter: 3), Start);

        Assert.False(throttle.Failed(Start, "refused"));
        Assert.False(throttle.Failed(Start, "refused"));
        throttle.Connected();
        Assert.False(throttle.Failed(Start, "refused"));
        Assert.False(throttle.Failed(Start, "refused"));
        var suspended = throttle.Failed(Start, "connect to mx[192.0.2.1]:25: ConnectionRefused");

        Assert.True(suspended);
        Assert.True(throttle.IsSuspended(Start.AddMinutes(4)));
        Assert.False(throttle.IsSuspended(Start.AddMinutes(5)));
        Assert.False(throttle.MayOpen(Start.AddMinutes(1)));
    }

    [Fact]
    public void an_operator_suspension_lasts_until_resumed()
    {
        var throttle = new RouteThrottle(Limits(), Start);

        throttle.Suspend(Start, TimeSpan.FromHours(1), "blocklisted, talking to their postmaster");
        Assert.True(throttle.IsSuspended(Start.AddMinutes(30)));
        throttle.Resume();

        Assert.False(throttle.IsSuspended(Start.AddMinutes(30)));
        Assert.True(throttle.MayOpen(Start.AddMinutes(30)));
    }

    [Fact]
    public void a_rate_per_minute_spaces_messages_evenly_after_a_burst_of_two()
    {
        var throttle = new RouteThrottle(Limits(perMinute: 60), Start);

        var starts = new List<DateTimeOffset>();
        var now = Start;
        while (starts.Count < 62)
        {
            if (throttle.HasToken(now))
            {
                throttle.TakeToken(now);
                starts.Add(now);
            }
            else
            {
                now = throttle.NextTokenAt(now);
            }
        }

        Assert.Equal(Start, starts[1]);
        Assert.Equal(Start.AddSeconds(1), starts[2]);
        // 62 messages in the first minute: the rate plus the bucket's two.
        Assert.Equal(Start.AddSeconds(60), starts[^1]);
    }

    [Fact]
    public void a_late_start_is_made_up_so_the_average_rate_holds()
    {
        var throttle = new RouteThrottle(Limits(perMinute: 600), Start);
        throttle.TakeToken(Start);
        throttle.TakeToken(Start);

        // The timer fires 30 ms late: the next token is only 70 ms away, not 100.
        var late = Start.AddMilliseconds(130);
        Assert.True(throttle.HasToken(late));
        throttle.TakeToken(late);

        Assert.Equal(200, (throttle.NextTokenAt(late) - Start).TotalMilliseconds, tolerance: 0.01);
    }

    [Fact]
    public void with_both_rates_the_stricter_one_decides()
    {
        var throttle = new RouteThrottle(Limits(perMinute: 600, perHour: 3600), Start);
        throttle.TakeToken(Start);
        throttle.TakeToken(Start);

        Assert.False(throttle.HasToken(Start.AddMilliseconds(500)));
        Assert.Equal(Start.AddSeconds(1), throttle.NextTokenAt(Start.AddMilliseconds(500)));
    }

    [Fact]
    public void without_rates_every_message_may_start_at_once()
    {
        var throttle = new RouteThrottle(Limits(), Start);

        for (var i = 0; i < 1000; i++)
            throttle.TakeToken(Start);

        Assert.True(throttle.HasToken(Start));
        Assert.Equal(Start, throttle.NextTokenAt(Start));
    }
}
