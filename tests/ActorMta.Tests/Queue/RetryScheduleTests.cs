using ActorMta.Config;
using ActorMta.Queue;

namespace ActorMta.Tests.Queue;

public sealed class RetryScheduleTests
{
    static readonly DateTimeOffset Now = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    static readonly RetrySchedule Default = new(TimeSpan.FromMinutes(5), 2.0, TimeSpan.FromHours(4), 0.15, TimeSpan.FromDays(5));

    /// <summary>Chances spread over [0, 1), both ends included as closely as a double allows.</summary>
    static readonly double[] ChanceValues = [0.0, 1e-9, 0.1, 0.25, 0.49, 0.5, 0.51, 0.75, 0.9, 1 - 1e-9, Math.BitDecrement(1.0)];

    public static TheoryData<double> Chances() => new(ChanceValues);

    [Fact]
    public void documented_defaults_give_five_minutes_doubling_up_to_four_hours_jittered_by_fifteen_percent_for_five_days()
    {
        var schedule = ActorMtaSettings.From(ActorMtaConfiguration.FromText("")).Delivery.Default.Retry;

        Assert.Equal(Default, schedule);
    }

    [Fact]
    public void first_retry_comes_after_the_first_interval()
    {
        Assert.Equal(TimeSpan.FromMinutes(5), Default.IntervalAfter(1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void a_retry_is_never_sooner_than_the_first_interval(int failedAttempts)
    {
        Assert.Equal(TimeSpan.FromMinutes(5), Default.IntervalAfter(failedAttempts));
    }

    [Fact]
    public void each_interval_grows_by_the_factor_until_the_cap()
    {
        Assert.Equal(
            new[] { 5, 10, 20, 40, 80, 160, 240, 240 }.Select(m => TimeSpan.FromMinutes(m)),
            Enumerable.Range(1, 8).Select(Default.IntervalAfter));
    }

    [Fact]
    public void a_fractional_factor_grows_the_interval_by_that_factor()
    {
        var schedule = new RetrySchedule(TimeSpan.FromMinutes(10), 1.5, TimeSpan.FromDays(1), 0, TimeSpan.FromDays(5));

        Assert.Equal(TimeSpan.FromMinutes(10), schedule.IntervalAfter(1));
        Assert.Equal(TimeSpan.FromMinutes(15), schedule.IntervalAfter(2));
        Assert.Equal(TimeSpan.FromMinutes(22.5), schedule.IntervalAfter(3));
    }

    [Theory]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(2000)]
    [InlineData(int.MaxValue)]
    public void a_long_failing_delivery_is_retried_at_the_maximum_interval(int failedAttempts)
    {
        // Past the cap the growth would overflow a TimeSpan; the cap must hold instead.
        Assert.Equal(TimeSpan.FromHours(4), Default.IntervalAfter(failedAttempts));
    }

    [Fact]
    public void intervals_never_shrink_and_never_leave_the_bounds()
    {
        var previous = TimeSpan.Zero;
        for (var attempt = 1; attempt <= 200; attempt++)
        {
            var interval = Default.IntervalAfter(attempt);
            Assert.InRange(interval, TimeSpan.FromMinutes(5), TimeSpan.FromHours(4));
            Assert.True(interval >= previous, $"attempt {attempt}: {interval} < {previous}");
            previous = interval;
        }
    }

    [Fact]
    public void a_retry_at_the_middle_of_the_jitter_window_is_the_plain_interval()
    {
        Assert.Equal(
            new[] { 5, 10, 20, 40, 80, 160, 240 }.Select(m => Now.AddMinutes(m)),
            Enumerable.Range(1, 7).Select(attempt => Default.NextAttempt(attempt, Now, 0.5)));
    }

    [Theory]
    [MemberData(nameof(Chances))]
    public void a_jittered_retry_stays_within_the_jitter_of_its_interval(double chance)
    {
        foreach (var attempt in new[] { 2, 3, 5, 7, 50 })
        {
            var interval = Default.IntervalAfter(attempt);

            var wait = Default.NextAttempt(attempt, Now, chance) - Now;

            Assert.InRange(wait, interval * 0.85, interval * 1.15);
        }
    }

    [Theory]
    [MemberData(nameof(Chances))]
    public void a_jittered_retry_is_never_sooner_than_the_first_interval(double chance)
    {
        // 15% early would be 4m15s: the first interval is a floor, not a target.
        var wait = Default.NextAttempt(1, Now, chance) - Now;

        Assert.InRange(wait, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5) * 1.15);
    }

    [Fact]
    public void a_first_retry_jittered_early_waits_exactly_the_first_interval()
    {
        Assert.Equal(Now.AddMinutes(5), Default.NextAttempt(1, Now, 0.0));
        Assert.Equal(Now.AddMinutes(5), Default.NextAttempt(0, Now, 0.0));
    }

    [Fact]
    public void jitter_moves_a_retry_earlier_and_later_by_up_to_its_fraction_of_the_interval()
    {
        Assert.Equal(Now.AddMinutes(17), Default.NextAttempt(3, Now, 0.0));
        Assert.Equal(Now.AddMinutes(20), Default.NextAttempt(3, Now, 0.5));
        Assert.Equal(Now.AddMinutes(21.5), Default.NextAttempt(3, Now, 0.75));
        Assert.Equal(Now.AddMinutes(204), Default.NextAttempt(100, Now, 0.0));
    }

    [Fact]
    public void mail_deferred_at_the_same_moment_is_spread_over_the_jitter_window()
    {
        var times = Enumerable.Range(0, 10).Select(i => Default.NextAttempt(4, Now, i / 10.0)).ToList();

        Assert.Equal(10, times.Distinct().Count());
        Assert.True(times.Max() - times.Min() > TimeSpan.FromMinutes(10), $"spread {times.Max() - times.Min()}");
    }

    [Fact]
    public void without_jitter_every_retry_is_the_plain_interval()
    {
        var exact = Default with { Jitter = 0 };

        Assert.All(ChanceValues, chance => Assert.Equal(Now.AddMinutes(40), exact.NextAttempt(4, Now, chance)));
    }
}
