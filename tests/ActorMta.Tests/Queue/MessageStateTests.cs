using ActorMta.Protocol;
using ActorMta.Queue;
using static ActorMta.Tests.Queue.QueueFixtures;

namespace ActorMta.Tests.Queue;

public sealed class MessageStateTests
{
    [Fact]
    public void accepting_records_envelope_and_one_pending_recipient_per_mailbox()
    {
        var accepted = MessageState.Accept(Envelope(Sender, "alice@example.test"), Settings.Recipients);

        Assert.Equal(QueueId, accepted.QueueId);
        Assert.Equal("sender@foreign.test", accepted.Sender);
        Assert.Equal("[192.0.2.7]", accepted.Client);
        Assert.Equal(T0, accepted.ReceivedAt);
        Assert.Equal(1234, accepted.Size);
        Assert.Equal([new RecipientAddress("alice@example.test", "alice@example.test")], accepted.Recipients);

        var state = MessageState.Empty.Apply(accepted);
        Assert.True(state.IsAccepted);
        Assert.False(state.AllFinal);
        var recipient = Assert.Single(state.Recipients);
        Assert.Equal(RecipientStatus.Pending, recipient.Status);
        Assert.False(recipient.Address.Remote);
        Assert.Equal(0, recipient.Attempts);
        Assert.Null(recipient.NextAttemptAt);
        Assert.Null(recipient.Last);
    }

    [Fact]
    public void alias_recipient_is_expanded_to_its_mailboxes_keeping_the_original_address()
    {
        var state = Accepted("team@example.test");

        Assert.Equal(
            [
                new RecipientAddress("team@example.test", "alice@example.test"),
                new RecipientAddress("team@example.test", "bob@example.test"),
                new RecipientAddress("team@example.test", "carol@other.test"),
            ],
            state.Recipients.Select(r => r.Address));
    }

    [Fact]
    public void two_recipients_reaching_one_mailbox_get_one_copy()
    {
        var state = Accepted("alice@example.test", "Alice+news@EXAMPLE.test", "team@example.test", "postmaster@example.test", "admin@example.test");

        Assert.Equal(
            ["alice@example.test", "bob@example.test", "carol@other.test", "admin@example.test"],
            state.Recipients.Select(r => r.Address.Mailbox));
        // The first address that reached a mailbox is the one remembered for X-Original-To.
        Assert.Equal("alice@example.test", state.Recipients[0].Address.Original);
        Assert.Equal("team@example.test", state.Recipients[1].Address.Original);
        Assert.Equal("postmaster@example.test", state.Recipients[3].Address.Original);
    }

    [Fact]
    public void unknown_users_of_a_local_domain_are_not_queued_but_foreign_addresses_are_queued_for_relay()
    {
        // Relaying is decided at RCPT (trusted networks, authentication); what reaches the queue is delivered.
        var state = Accepted("alice@example.test", "someone@foreign.test", "nobody@example.test", "alice%foreign.test@example.test");

        Assert.Equal(
            [
                new RecipientAddress("alice@example.test", "alice@example.test"),
                new RecipientAddress("someone@foreign.test", "someone@foreign.test", Remote: true),
            ],
            state.Recipients.Select(r => r.Address));
    }

    [Theory]
    [InlineData("someone@foreign.test", "someone@foreign.test")]
    [InlineData("someone@FOREIGN.Test", "someone@foreign.test")]
    [InlineData("someone@foreign.test.", "someone@foreign.test")]
    [InlineData("Some.One@Foreign.TEST", "Some.One@foreign.test")]
    [InlineData("alice@sub.example.test", "alice@sub.example.test")]
    public void remote_recipient_is_kept_as_remote_with_its_domain_in_lower_case_and_its_local_part_as_given(string original, string mailbox)
    {
        var recipient = Assert.Single(Accepted(original).Recipients);

        Assert.Equal(new RecipientAddress(original, mailbox, Remote: true), recipient.Address);
        Assert.Equal(mailbox[(mailbox.LastIndexOf('@') + 1)..], recipient.Address.Domain);
        Assert.Equal(RecipientStatus.Pending, recipient.Status);
    }

    [Fact]
    public void one_remote_address_spelled_with_two_domain_cases_gets_one_copy()
    {
        var state = Accepted("someone@foreign.test", "someone@FOREIGN.test", "other@foreign.test");

        Assert.Equal(["someone@foreign.test", "other@foreign.test"], state.Recipients.Select(r => r.Address.Mailbox));
        Assert.Equal("someone@foreign.test", state.Recipients[0].Address.Original);
    }

    [Fact]
    public void quoted_at_in_the_local_part_does_not_reach_another_domain()
    {
        var state = Accepted("\"carol@other.test\"@example.test");

        Assert.Empty(state.Recipients);
    }

    [Fact]
    public void delivered_recipient_is_final()
    {
        var state = Accepted("alice@example.test");

        state = state.Step(new DeliveryOutcome.Delivered(0, Ok), T0.AddSeconds(1), out var e);

        Assert.Equal(new RecipientDelivered(0, T0.AddSeconds(1), Ok), e);
        var recipient = Assert.Single(state.Recipients);
        Assert.Equal(RecipientStatus.Delivered, recipient.Status);
        Assert.Equal(1, recipient.Attempts);
        Assert.Equal(Ok, recipient.Last);
        Assert.True(recipient.IsFinal);
        Assert.True(state.AllFinal);
        Assert.Empty(state.DueRecipients(T0.AddDays(1)));
    }

    [Fact]
    public void permanently_failed_recipient_is_final_and_not_expired()
    {
        var state = Accepted("someone@foreign.test");

        state = state.Step(new DeliveryOutcome.PermanentFailure(0, UserUnknown), T0.AddSeconds(1), out var e);

        Assert.Equal(new RecipientFailed(0, T0.AddSeconds(1), UserUnknown, Expired: false), e);
        Assert.Equal(RecipientStatus.Failed, state.Recipients[0].Status);
        Assert.Equal(UserUnknown, state.Recipients[0].Last);
        Assert.False(state.Recipients[0].Expired);
        Assert.True(state.AllFinal);
    }

    [Fact]
    public void first_deferral_waits_the_first_retry_interval()
    {
        var state = Accepted("alice@example.test");
        var now = T0.AddSeconds(3);

        state = state.Step(new DeliveryOutcome.TemporaryFailure(0, DiskFull), now, out var e);

        Assert.Equal(new RecipientDeferred(0, now, now + TimeSpan.FromMinutes(5), DiskFull), e);
        var recipient = state.Recipients[0];
        Assert.Equal(RecipientStatus.Deferred, recipient.Status);
        Assert.Equal(1, recipient.Attempts);
        Assert.Equal(now + TimeSpan.FromMinutes(5), recipient.NextAttemptAt);
        Assert.Equal(DiskFull, recipient.Last);
        Assert.False(state.AllFinal);
        Assert.Equal(now + TimeSpan.FromMinutes(5), state.NextWakeAt(Policy()));
    }

    [Fact]
    public void repeated_deferrals_wait_twice_as_long_each_time_up_to_the_cap()
    {
        var state = Accepted("alice@example.test");
        var now = T0;
        var waits = new List<TimeSpan>();

        for (var attempt = 0; attempt < 9; attempt++)
        {
            state = state.Defer(0, now);
            var next = state.Recipients[0].NextAttemptAt!.Value;
            waits.Add(next - now);
            now = next;
        }

        Assert.Equal(
            new[] { 5, 10, 20, 40, 80, 160, 240, 240, 240 }.Select(m => TimeSpan.FromMinutes(m)),
            waits);
        Assert.Equal(9, state.Recipients[0].Attempts);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    [InlineData(0.999)]
    public void a_deferral_takes_its_retry_time_from_the_policy_chance(double chance)
    {
        var state = Accepted("alice@example.test").Defer(0, T0).Defer(0, T0);

        state = state.Step(new DeliveryOutcome.TemporaryFailure(0, DiskFull), T0, Policy(chance: chance));

        Assert.Equal(Settings.Delivery.Default.Retry.NextAttempt(3, T0, chance), state.Recipients[0].NextAttemptAt);
    }

    [Fact]
    public void delivery_after_deferrals_clears_the_retry_time()
    {
        var state = Accepted("alice@example.test").Defer(0, T0);

        state = state.Deliver(0, T0.AddMinutes(5));

        Assert.Equal(RecipientStatus.Delivered, state.Recipients[0].Status);
        Assert.Equal(2, state.Recipients[0].Attempts);
        Assert.Null(state.Recipients[0].NextAttemptAt);
        Assert.Null(state.NextWakeAt(Policy()));
        Assert.True(state.AllFinal);
    }

    [Fact]
    public void message_is_final_only_when_every_recipient_is()
    {
        var state = Accepted("alice@example.test", "bob@example.test", "carol@other.test");

        state = state.Deliver(0, T0);
        Assert.False(state.AllFinal);
        state = state.Defer(1, T0);
        Assert.False(state.AllFinal);
        state = state.Bounce(2, T0);
        Assert.False(state.AllFinal);
        state = state.Bounce(1, T0.AddMinutes(5));
        Assert.True(state.AllFinal);
    }

    [Fact]
    public void deferred_recipient_is_not_due_before_its_retry_time()
    {
        var state = Accepted("alice@example.test", "bob@example.test", "carol@other.test").Defer(0, T0).Deliver(2, T0);

        Assert.Equal([1], state.DueRecipients(T0));
        Assert.Equal([1], state.DueRecipients(T0.AddMinutes(5).AddTicks(-1)));
        Assert.Equal([0, 1], state.DueRecipients(T0.AddMinutes(5)));
        Assert.Equal([0, 1], state.DueRecipients(T0.AddHours(1)));
    }

    [Fact]
    public void next_wake_is_the_earliest_retry_among_deferred_recipients()
    {
        var state = Accepted("alice@example.test", "bob@example.test")
            .Defer(0, T0)
            .Defer(0, T0.AddMinutes(5))
            .Defer(1, T0.AddMinutes(5));

        Assert.Equal(T0.AddMinutes(15), state.Recipients[0].NextAttemptAt);
        Assert.Equal(T0.AddMinutes(10), state.Recipients[1].NextAttemptAt);
        Assert.Equal(T0.AddMinutes(10), state.NextWakeAt(Policy()));
    }

    [Fact]
    public void pending_recipients_have_no_retry_time()
    {
        Assert.Null(Accepted("alice@example.test").NextWakeAt(Policy()));
    }

    [Fact]
    public void message_that_was_never_accepted_is_not_final()
    {
        Assert.False(MessageState.Empty.AllFinal);
        Assert.False(MessageState.Empty.IsFinished);
        Assert.False(MessageState.Empty.IsAccepted);
    }

    [Fact]
    public void completion_is_recorded()
    {
        var state = Accepted("alice@example.test").Deliver(0, T0);
        Assert.False(state.Completed);

        state = state.Apply(new MessageCompleted(T0));

        Assert.True(state.Completed);
    }

    [Fact]
    public void replaying_the_journal_rebuilds_the_same_state()
    {
        var live = Accepted("alice@example.test", "team@example.test", "someone@foreign.test");
        var journal = new List<IMessageEvent>();
        journal.Add(MessageState.Accept(Envelope(Sender, "alice@example.test", "team@example.test", "someone@foreign.test"), Settings.Recipients));
        live = live.Step(new DeliveryOutcome.TemporaryFailure(1, DiskFull), T0, out var e1);
        live = live.Step(new DeliveryOutcome.Delivered(0, Ok), T0, out var e2);
        live = live.Step(new DeliveryOutcome.PermanentFailure(3, UserUnknown), T0, out var e3);
        journal.AddRange([e1, e2, e3]);
        var notice = live.NextNotice(T0, Policy())!;
        live = live.Notified(notice, T0);
        journal.Add(new NoticeSent(notice.Kind, notice.Recipients, notice.NoticeQueueId, T0));

        var replayed = MessageState.Empty.ApplyAll(journal);

        Assert.Equal(live.Recipients.AsEnumerable(), replayed.Recipients.AsEnumerable());
        Assert.Equal(4, replayed.Recipients.Length);
        Assert.Equal(live.FailureNotices, replayed.FailureNotices);
        Assert.Equal(live.NextWakeAt(Policy()), replayed.NextWakeAt(Policy()));
        Assert.Equal(NoticeKind.FirstDelay, replayed.NextNotice(T0, Policy())?.Kind);
        Assert.Equal(live.NextNotice(T0, Policy())!.Recipients, replayed.NextNotice(T0, Policy())!.Recipients);
        Assert.Equal(live.AllFinal, replayed.AllFinal);
    }
}
