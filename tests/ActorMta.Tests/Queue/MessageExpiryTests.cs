using ActorMta.Protocol;
using ActorMta.Queue;
using static ActorMta.Tests.Queue.QueueFixtures;

namespace ActorMta.Tests.Queue;

/// <summary>The maximum age (5 days by default, 1 day for slow.test): after it, mail goes back to its sender.</summary>
public sealed class MessageExpiryTests
{
    static readonly DateTimeOffset MaxAge = T0.AddDays(5);
    static readonly IReadOnlySet<int> NoneInFlight = new HashSet<int>();

    [Fact]
    public void a_temporary_failure_at_the_maximum_age_fails_the_recipient_as_expired()
    {
        var state = Accepted("alice@example.test").Defer(0, T0);

        state = state.Step(new DeliveryOutcome.TemporaryFailure(0, DiskFull), MaxAge, out var e);

        Assert.Equal(new RecipientFailed(0, MaxAge, DiskFull, Expired: true), e);
        var recipient = state.Recipients[0];
        Assert.Equal(RecipientStatus.Failed, recipient.Status);
        Assert.True(recipient.Expired);
        Assert.Equal(DiskFull, recipient.Last);
        Assert.Null(recipient.NextAttemptAt);
        Assert.True(state.AllFinal);
        Assert.Null(state.NextWakeAt(Policy()));
    }

    [Fact]
    public void a_temporary_failure_long_after_the_maximum_age_fails_as_expired()
    {
        var state = Accepted("alice@example.test");

        Assert.Equal(new RecipientFailed(0, T0.AddDays(30), DiskFull, Expired: true), state.Record(new DeliveryOutcome.TemporaryFailure(0, DiskFull), T0.AddDays(30), Policy()));
    }

    [Fact]
    public void a_temporary_failure_just_before_the_maximum_age_is_deferred_and_wakes_at_the_maximum_age()
    {
        var justBefore = MaxAge.AddTicks(-1);
        var state = Accepted("alice@example.test");

        state = state.Step(new DeliveryOutcome.TemporaryFailure(0, DiskFull), justBefore, out var e);

        Assert.Equal(new RecipientDeferred(0, justBefore, justBefore.AddMinutes(5), DiskFull), e);
        // The retry would come after the maximum age; the message must wake to expire instead.
        Assert.Equal(MaxAge, state.NextWakeAt(Policy()));
    }

    [Fact]
    public void a_permanent_failure_after_the_maximum_age_is_a_bounce_not_an_expiry()
    {
        var state = Accepted("someone@foreign.test");

        var e = state.Record(new DeliveryOutcome.PermanentFailure(0, UserUnknown), T0.AddDays(6), Policy());

        Assert.Equal(new RecipientFailed(0, T0.AddDays(6), UserUnknown, Expired: false), e);
    }

    [Fact]
    public void a_delivery_that_succeeds_after_the_maximum_age_counts_as_delivered()
    {
        var state = Accepted("alice@example.test");

        Assert.Equal(new RecipientDelivered(0, T0.AddDays(6), Ok), state.Record(new DeliveryOutcome.Delivered(0, Ok), T0.AddDays(6), Policy()));
    }

    [Fact]
    public void a_remote_recipient_expires_at_its_destinations_maximum_age_while_a_local_one_is_retried()
    {
        var state = Accepted("alice@example.test", "someone@slow.test");
        var oneDay = T0.AddDays(1);

        state = state.Step(new DeliveryOutcome.TemporaryFailure(0, DiskFull), oneDay, out var local);
        state = state.Step(new DeliveryOutcome.TemporaryFailure(1, Refused), oneDay, out var remote);

        Assert.IsType<RecipientDeferred>(local);
        Assert.Equal(new RecipientFailed(1, oneDay, Refused, Expired: true), remote);
        Assert.Equal(RecipientStatus.Deferred, state.Recipients[0].Status);
        Assert.True(state.Recipients[1].Expired);
    }

    [Fact]
    public void expiry_fails_old_recipients_whether_deferred_or_never_tried()
    {
        // bob was never tried (the queue was on hold); carol was delivered; someone bounced.
        var state = Accepted("alice@example.test", "bob@example.test", "carol@other.test", "someone@foreign.test")
            .Defer(0, T0)
            .Deliver(2, T0)
            .Bounce(3, T0);

        var events = state.Expire(MaxAge, Policy(), NoneInFlight);

        Assert.Equal(
            [
                new RecipientFailed(0, MaxAge, DiskFull, Expired: true),
                new RecipientFailed(1, MaxAge, new AttemptReport("4.4.7", "delivery time expired"), Expired: true),
            ],
            events);
    }

    [Fact]
    public void expiry_changes_nothing_before_the_maximum_age()
    {
        var state = Accepted("alice@example.test", "bob@example.test").Defer(0, T0);

        Assert.Empty(state.Expire(MaxAge.AddTicks(-1), Policy(), NoneInFlight));
    }

    [Fact]
    public void expiry_leaves_a_recipient_whose_attempt_is_in_flight_to_that_attempt()
    {
        var state = Accepted("alice@example.test", "bob@example.test").Defer(0, T0).Defer(1, T0);

        var events = state.Expire(MaxAge, Policy(), new HashSet<int> { 0 });

        var failed = Assert.IsType<RecipientFailed>(Assert.Single(events));
        Assert.Equal(1, failed.Index);
        Assert.True(failed.Expired);
        // The attempt in flight decides recipient 0: a temporary failure now expires it too.
        Assert.True(Assert.IsType<RecipientFailed>(state.Record(new DeliveryOutcome.TemporaryFailure(0, DiskFull), MaxAge, Policy())).Expired);
    }

    [Fact]
    public void an_expired_recipient_is_reported_with_the_details_of_its_last_attempt()
    {
        var state = Accepted("someone@foreign.test").Defer(0, T0, Refused);

        var failed = Assert.IsType<RecipientFailed>(Assert.Single(state.Expire(MaxAge, Policy(), NoneInFlight)));

        Assert.Equal(Refused, failed.Report);
    }

    [Fact]
    public void an_expired_recipient_is_reported_with_a_temporary_status_even_if_its_last_deferral_said_otherwise()
    {
        var odd = new AttemptReport("5.0.0", "450 but with a permanent enhanced code", "mx.foreign.test");
        var state = Accepted("someone@foreign.test").Defer(0, T0, odd);

        var failed = Assert.IsType<RecipientFailed>(Assert.Single(state.Expire(MaxAge, Policy(), NoneInFlight)));

        Assert.Equal(odd with { Dsn = "4.4.7" }, failed.Report);
    }

    [Fact]
    public void expiry_is_not_counted_as_a_delivery_attempt()
    {
        var state = Accepted("alice@example.test", "bob@example.test").Defer(0, T0);

        state = state.ApplyAll(state.Expire(MaxAge, Policy(), NoneInFlight));

        Assert.Equal([1, 0], state.Recipients.Select(r => r.Attempts));
        Assert.All(state.Recipients, r => Assert.Equal(RecipientStatus.Failed, r.Status));
        Assert.All(state.Recipients, r => Assert.True(r.Expired));
        Assert.All(state.Recipients, r => Assert.Null(r.NextAttemptAt));
        Assert.True(state.AllFinal);
    }

    [Fact]
    public void a_recipient_of_a_destination_with_a_shorter_maximum_age_expires_first()
    {
        var state = Accepted("alice@example.test", "someone@slow.test");

        var events = state.Expire(T0.AddDays(1), Policy(), NoneInFlight);

        Assert.Equal(1, Assert.IsType<RecipientFailed>(Assert.Single(events)).Index);
    }

    [Fact]
    public void next_wake_is_the_earliest_of_retries_and_expiries()
    {
        // slow.test: first retry after 30 minutes, but its mail may wait only a day.
        var late = T0.AddDays(1).AddMinutes(-10);
        var state = Accepted("alice@example.test", "someone@slow.test")
            .Defer(0, late)
            .Defer(1, late, Refused);

        Assert.Equal(late.AddMinutes(5), state.Recipients[0].NextAttemptAt);
        Assert.Equal(late.AddMinutes(30), state.Recipients[1].NextAttemptAt);
        Assert.Equal(late.AddMinutes(5), state.NextWakeAt(Policy()));

        state = state.Deliver(0, late.AddMinutes(5));

        Assert.Equal(T0.AddDays(1), state.NextWakeAt(Policy()));
    }

    [Fact]
    public void next_wake_ignores_recipients_that_are_pending_or_final()
    {
        var state = Accepted("alice@example.test", "bob@example.test", "carol@other.test").Deliver(1, T0).Bounce(2, T0);

        Assert.Null(state.NextWakeAt(Policy()));
    }
}
