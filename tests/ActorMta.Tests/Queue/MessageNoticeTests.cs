using ActorMta.Config;
using ActorMta.Protocol;
using ActorMta.Queue;
using static ActorMta.Tests.Queue.QueueFixtures;

namespace ActorMta.Tests.Queue;

/// <summary>
/// The notices a message owes its sender, one at a time: failures first, then a delay warning
/// after the first failed attempt, then one more after a long wait (12 hours by default).
/// </summary>
public sealed class MessageNoticeTests
{
    static readonly TimeSpan LateAfter = TimeSpan.FromHours(12);

    static void AssertNotice(NoticeKind kind, int[] recipients, string queueId, NoticeDue? notice)
    {
        Assert.NotNull(notice);
        Assert.Equal(kind, notice.Kind);
        Assert.Equal(recipients, notice.Recipients);
        Assert.Equal(queueId, notice.NoticeQueueId);
    }

    [Fact]
    public void a_message_with_nothing_failed_or_deferred_owes_no_notice()
    {
        var state = Accepted("alice@example.test", "bob@example.test");
        Assert.Null(state.NextNotice(T0, Policy()));

        state = state.Deliver(0, T0);

        Assert.Null(state.NextNotice(T0.AddDays(1), Policy()));
    }

    [Fact]
    public void a_bounced_recipient_is_reported_in_a_failure_notice_numbered_b1()
    {
        var state = Accepted("alice@example.test", "someone@foreign.test").Deliver(0, T0).Bounce(1, T0);

        AssertNotice(NoticeKind.Failure, [1], QueueId + "B1", state.NextNotice(T0, Policy()));
    }

    [Fact]
    public void failures_are_reported_before_the_delay_warning_which_comes_once()
    {
        var now = T0.AddMinutes(1);
        var state = Accepted("alice@example.test", "bob@example.test", "someone@foreign.test")
            .Defer(0, now)
            .Bounce(2, now)
            .Defer(1, now);

        var failure = state.NextNotice(now, Policy());
        AssertNotice(NoticeKind.Failure, [2], QueueId + "B1", failure);
        state = state.Notified(failure!, now);

        var delay = state.NextNotice(now, Policy());
        AssertNotice(NoticeKind.FirstDelay, [0, 1], QueueId + "D1", delay);
        state = state.Notified(delay!, now);

        Assert.Null(state.NextNotice(now, Policy()));
        // Further deferrals do not warn again before the late warning is due.
        state = state.Defer(0, now.AddMinutes(5)).Defer(1, now.AddMinutes(5));
        Assert.Null(state.NextNotice(T0 + LateAfter - TimeSpan.FromTicks(1), Policy()));
    }

    [Fact]
    public void the_late_delay_warning_comes_once_when_the_message_has_waited_delay_notice_after()
    {
        var state = Accepted("alice@example.test").Defer(0, T0.AddMinutes(1));
        state = state.Notified(state.NextNotice(T0.AddMinutes(1), Policy())!, T0.AddMinutes(1));
        state = state.Defer(0, T0.AddHours(11));

        Assert.Null(state.NextNotice(T0 + LateAfter - TimeSpan.FromTicks(1), Policy()));
        var late = state.NextNotice(T0 + LateAfter, Policy());
        AssertNotice(NoticeKind.LateDelay, [0], QueueId + "D2", late);
        state = state.Notified(late!, T0 + LateAfter);

        Assert.Null(state.NextNotice(T0.AddDays(3), Policy()));
        Assert.Equal([NoticeKind.FirstDelay, NoticeKind.LateDelay], state.DelayNoticesSent.Order());
    }

    [Fact]
    public void a_message_whose_first_failure_comes_after_the_long_wait_gets_one_warning_not_two()
    {
        var state = Accepted("alice@example.test").Defer(0, T0 + LateAfter + TimeSpan.FromMinutes(1));

        var warning = state.NextNotice(T0 + LateAfter + TimeSpan.FromMinutes(1), Policy());
        AssertNotice(NoticeKind.LateDelay, [0], QueueId + "D2", warning);
        state = state.Notified(warning!, T0 + LateAfter + TimeSpan.FromMinutes(1));

        Assert.Null(state.NextNotice(T0.AddDays(1), Policy()));
    }

    [Fact]
    public void a_message_that_expires_after_its_warnings_gets_a_second_failure_notice_b2()
    {
        var state = Accepted("alice@example.test", "someone@foreign.test").Bounce(1, T0).Defer(0, T0);
        foreach (var now in new[] { T0, T0, T0 + LateAfter })
            state = state.Notified(state.NextNotice(now, Policy())!, now);
        Assert.Equal(1, state.FailureNotices);
        Assert.Null(state.NextNotice(T0.AddDays(4), Policy()));

        state = state.ApplyAll(state.Expire(T0.AddDays(5), Policy(), new HashSet<int>()));

        AssertNotice(NoticeKind.Failure, [0], QueueId + "B2", state.NextNotice(T0.AddDays(5), Policy()));
    }

    [Fact]
    public void recipients_already_reported_as_failed_are_not_reported_again()
    {
        var state = Accepted("alice@example.test", "bob@example.test", "carol@other.test").Bounce(0, T0).Defer(1, T0).Defer(2, T0);
        state = state.Notified(state.NextNotice(T0, Policy())!, T0);

        state = state.Bounce(1, T0.AddMinutes(5));

        AssertNotice(NoticeKind.Failure, [1], QueueId + "B2", state.NextNotice(T0.AddMinutes(5), Policy()));
    }

    [Fact]
    public void without_the_first_warning_the_late_warning_still_comes()
    {
        var delivery = Settings.Delivery with { DelayNoticeOnFirstFailure = false };
        var state = Accepted("alice@example.test").Defer(0, T0);

        Assert.Null(state.NextNotice(T0, Policy(delivery)));
        AssertNotice(NoticeKind.LateDelay, [0], QueueId + "D2", state.NextNotice(T0 + LateAfter, Policy(delivery)));
    }

    [Fact]
    public void without_a_late_warning_only_the_first_delay_warning_is_sent()
    {
        var delivery = Settings.Delivery with { DelayNoticeAfter = null };
        var state = Accepted("alice@example.test").Defer(0, T0);
        state = state.Notified(state.NextNotice(T0, Policy(delivery))!, T0);

        Assert.Equal([NoticeKind.FirstDelay], state.DelayNoticesSent);
        Assert.Null(state.NextNotice(T0.AddDays(4), Policy(delivery)));
    }

    [Fact]
    public void zero_delay_notice_after_turns_the_late_warning_off()
    {
        var delivery = ActorMtaSettings.From(ActorMtaConfiguration.FromText("actormta.delivery.delay-notice { on-first-failure = off, after = 0s }")).Delivery;

        Assert.False(delivery.DelayNoticeOnFirstFailure);
        Assert.Null(delivery.DelayNoticeAfter);
        Assert.Null(Accepted("alice@example.test").Defer(0, T0).NextNotice(T0.AddDays(4), Policy(delivery)));
    }

    [Fact]
    public void mail_from_the_null_sender_never_gets_a_notice()
    {
        var state = AcceptedFrom("", "alice@example.test", "someone@foreign.test").Defer(0, T0).Bounce(1, T0);

        Assert.False(state.MayNotify);
        Assert.Null(state.NextNotice(T0, Policy()));
        Assert.Null(state.NextNotice(T0.AddDays(1), Policy()));
        Assert.Null(state.ApplyAll(state.Expire(T0.AddDays(5), Policy(), new HashSet<int>())).NextNotice(T0.AddDays(5), Policy()));
    }

    [Fact]
    public void a_message_with_a_failed_recipient_is_finished_only_once_the_failure_notice_is_sent()
    {
        var state = Accepted("alice@example.test", "someone@foreign.test").Deliver(0, T0).Bounce(1, T0);
        Assert.True(state.AllFinal);
        Assert.False(state.IsFinished);

        state = state.Notified(state.NextNotice(T0, Policy())!, T0);

        Assert.True(state.Recipients[1].FailureNotified);
        Assert.True(state.IsFinished);
    }

    [Fact]
    public void a_delay_warning_does_not_count_as_reporting_a_failure()
    {
        var state = Accepted("alice@example.test").Defer(0, T0);
        state = state.Notified(state.NextNotice(T0, Policy())!, T0);

        state = state.ApplyAll(state.Expire(T0.AddDays(5), Policy(), new HashSet<int>()));

        Assert.False(state.Recipients[0].FailureNotified);
        Assert.False(state.IsFinished);
        AssertNotice(NoticeKind.Failure, [0], QueueId + "B1", state.NextNotice(T0.AddDays(5), Policy()));
    }

    [Fact]
    public void a_delivered_message_is_finished_at_once()
    {
        var state = Accepted("alice@example.test", "bob@example.test").Deliver(0, T0);
        Assert.False(state.IsFinished);

        Assert.True(state.Deliver(1, T0).IsFinished);
    }

    [Fact]
    public void a_failed_bounce_is_finished_without_any_notice()
    {
        var state = AcceptedFrom("", "someone@foreign.test").Bounce(0, T0);

        Assert.True(state.IsFinished);
    }
}
