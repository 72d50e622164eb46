using ActorMta.Config;
using ActorMta.Protocol;
using ActorMta.Queue;
using ActorMta.Tests.Config;

namespace ActorMta.Tests.Queue;

/// <summary>
/// Message states built the way the message actor builds them (commands become events, events
/// are applied), with a fixed clock and a fixed chance, so the queue's rules run without actors.
/// </summary>
static class QueueFixtures
{
    public const string QueueId = "01JNQ0000000ABCD";
    public const string Sender = "sender@foreign.test";

    public static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Two local domains (see <see cref="RecipientDirectoryTests.TwoDomains"/>); mail for slow.test may wait only a day.</summary>
    public static readonly ActorMtaSettings Settings = ActorMtaSettings.From(ActorMtaConfiguration.FromText(
        RecipientDirectoryTests.TwoDomains + """

        actormta.delivery.destinations."slow.test" { max-age = 1d, first-retry = 30m }
        """));

    public static readonly AttemptReport Ok = new("2.0.0", "delivered to maildir x", Relay: "local");
    public static readonly AttemptReport DiskFull = new("4.2.0", "maildir delivery failed: disk full", Relay: "local");
    public static readonly AttemptReport Refused = new("4.4.1", "connection refused", RemoteMta: "mx.foreign.test", Relay: "mx.foreign.test[192.0.2.25]:25");
    public static readonly AttemptReport UserUnknown = new("5.1.1", "user unknown", "mx.foreign.test", "mx.foreign.test[192.0.2.25]:25", "550 5.1.1 <someone@foreign.test>: no such user");

    /// <summary>The policy of <see cref="Settings"/>; a chance of 0.5 puts every retry at its plain interval.</summary>
    public static QueuePolicy Policy(DeliverySettings? delivery = null, double chance = 0.5) => new(delivery ?? Settings.Delivery, () => chance);

    public static MailEnvelope Envelope(string sender, params string[] recipients) =>
        new(QueueId, sender, recipients, "[192.0.2.7]", T0, 1234);

    public static MessageState Accepted(params string[] recipients) => AcceptedFrom(Sender, recipients);

    public static MessageState AcceptedFrom(string sender, params string[] recipients) =>
        MessageState.Empty.Apply(MessageState.Accept(Envelope(sender, recipients), Settings.Recipients));

    public static MessageState Step(this MessageState state, DeliveryOutcome outcome, DateTimeOffset now, out IMessageEvent @event, QueuePolicy? policy = null)
    {
        @event = state.Record(outcome, now, policy ?? Policy());
        return state.Apply(@event);
    }

    public static MessageState Step(this MessageState state, DeliveryOutcome outcome, DateTimeOffset now, QueuePolicy? policy = null) =>
        state.Step(outcome, now, out _, policy);

    public static MessageState Deliver(this MessageState state, int index, DateTimeOffset now) => state.Step(new DeliveryOutcome.Delivered(index, Ok), now);

    public static MessageState Defer(this MessageState state, int index, DateTimeOffset now, AttemptReport? report = null) =>
        state.Step(new DeliveryOutcome.TemporaryFailure(index, report ?? DiskFull), now);

    public static MessageState Bounce(this MessageState state, int index, DateTimeOffset now, AttemptReport? report = null) =>
        state.Step(new DeliveryOutcome.PermanentFailure(index, report ?? UserUnknown), now);

    /// <summary>What the actor persists once the notice is in the queue.</summary>
    public static MessageState Notified(this MessageState state, NoticeDue notice, DateTimeOffset now) =>
        state.Apply(new NoticeSent(notice.Kind, notice.Recipients, notice.NoticeQueueId, now));

    public static MessageState ApplyAll(this MessageState state, IEnumerable<IMessageEvent> events) => events.Aggregate(state, (s, e) => s.Apply(e));
}
