using System.Collections.Immutable;
using System.Text.Json.Serialization;
using ActorMta.Config;
using ActorMta.Protocol;

namespace ActorMta.Queue;

public enum RecipientStatus
{
    Pending,
    Deferred,
    Delivered,
    Failed,
}

/// <param name="Expired">Failed because the message grew too old, not by a permanent reply.</param>
public sealed record RecipientState(RecipientAddress Address, RecipientStatus Status, int Attempts, DateTimeOffset? NextAttemptAt, AttemptReport? Last, bool Expired = false, bool FailureNotified = false)
{
    public bool IsFinal => Status is RecipientStatus.Delivered or RecipientStatus.Failed;

    public bool IsDue(DateTimeOffset now) =>
        Status == RecipientStatus.Pending || (Status == RecipientStatus.Deferred && NextAttemptAt <= now);
}

/// <summary>The outcome of one delivery attempt to one recipient; routers send them across nodes.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "outcome")]
[JsonDerivedType(typeof(Delivered), "delivered")]
[JsonDerivedType(typeof(TemporaryFailure), "temporary")]
[JsonDerivedType(typeof(PermanentFailure), "permanent")]
public abstract record DeliveryOutcome(int Index, AttemptReport Report)
{
    public sealed record Delivered(int Index, AttemptReport Report) : DeliveryOutcome(Index, Report);
    public sealed record TemporaryFailure(int Index, AttemptReport Report) : DeliveryOutcome(Index, Report);
    public sealed record PermanentFailure(int Index, AttemptReport Report) : DeliveryOutcome(Index, Report);
}

/// <summary>A delivery status notification the message owes its sender.</summary>
public sealed record NoticeDue(NoticeKind Kind, IReadOnlyList<int> Recipients, string NoticeQueueId);

/// <summary>The queue's rules that depend on configuration, and the one source of chance (retry jitter).</summary>
public sealed class QueuePolicy(DeliverySettings delivery, Func<double> random)
{
    public DeliverySettings Delivery => delivery;

    public RetrySchedule ScheduleFor(RecipientAddress recipient) =>
        recipient.Remote ? delivery.For(recipient.Domain).Retry : delivery.Default.Retry;

    public DateTimeOffset NextAttempt(RecipientAddress recipient, int failedAttempts, DateTimeOffset now) =>
        ScheduleFor(recipient).NextAttempt(failedAttempts, now, random());

    public DateTimeOffset ExpiresAt(RecipientAddress recipient, DateTimeOffset receivedAt) => receivedAt + ScheduleFor(recipient).MaxAge;
}

/// <summary>
/// One message's state, rebuilt from its journal. Commands become events here and events
/// change the state here, so the queue's rules (retries, expiry, notices) are tested without
/// an actor system.
/// </summary>
public sealed record MessageState
{
    public static readonly MessageState Empty = new();

    public string? QueueId { get; init; }
    public string Sender { get; init; } = "";
    public string Client { get; init; } = "";
    public DateTimeOffset ReceivedAt { get; init; }
    public long Size { get; init; }
    public ImmutableArray<RecipientState> Recipients { get; init; } = [];
    public ImmutableHashSet<NoticeKind> DelayNoticesSent { get; init; } = [];
    public int FailureNotices { get; init; }
    public bool Completed { get; init; }

    public bool IsAccepted => QueueId is not null;

    /// <summary>Mail from the null sender (a bounce) is never answered with another one (RFC 5321 §4.5.5).</summary>
    public bool MayNotify => Sender.Length > 0;

    public bool AllFinal => IsAccepted && Recipients.All(r => r.IsFinal);

    /// <summary>Done for good: every recipient final and every failure reported.</summary>
    public bool IsFinished => AllFinal && (!MayNotify || Recipients.All(r => r.Status != RecipientStatus.Failed || r.FailureNotified));

    /// <summary>When the queue must look at this message again: the earliest retry or expiry.</summary>
    public DateTimeOffset? NextWakeAt(QueuePolicy policy) =>
        Recipients.Where(r => r.Status == RecipientStatus.Deferred)
            .Select(r => Min(r.NextAttemptAt!.Value, policy.ExpiresAt(r.Address, ReceivedAt)))
            .Cast<DateTimeOffset?>()
            .Min();

    public IReadOnlyList<int> DueRecipients(DateTimeOffset now) =>
        Enumerable.Range(0, Recipients.Length).Where(i => Recipients[i].IsDue(now)).ToList();

    /// <summary>
    /// The acceptance of a message as the edge received it: aliases expanded, and duplicate
    /// mailboxes dropped, so two RCPTs that reach one mailbox get one copy.
    /// </summary>
    public static MessageAccepted Accept(MailEnvelope envelope, RecipientDirectory directory)
    {
        var recipients = new List<RecipientAddress>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var original in envelope.Recipients)
        {
            var (local, domain) = MailAddress.Split(original);
            switch (directory.Lookup(local, domain))
            {
                case RecipientLookup.Local found:
                    foreach (var mailbox in found.Mailboxes)
                    {
                        if (seen.Add(mailbox))
                            recipients.Add(new RecipientAddress(original, mailbox));
                    }
                    break;
                case RecipientLookup.Foreign:
                    var address = MailAddress.Format(local, MailAddress.NormalizeDomain(domain));
                    if (seen.Add(address))
                        recipients.Add(new RecipientAddress(original, address, Remote: true));
                    break;
            }
        }
        return new MessageAccepted(envelope.QueueId, envelope.Sender, recipients, envelope.Client, envelope.ReceivedAt, envelope.Size);
    }

    /// <summary>
    /// A temporary failure is retried on the recipient's schedule, unless the message has
    /// reached its maximum age: then it fails as expired.
    /// </summary>
    public IMessageEvent Record(DeliveryOutcome outcome, DateTimeOffset now, QueuePolicy policy)
    {
        var recipient = Recipients[outcome.Index];
        return outcome switch
        {
            DeliveryOutcome.Delivered d => new RecipientDelivered(d.Index, now, d.Report),
            DeliveryOutcome.PermanentFailure f => new RecipientFailed(f.Index, now, f.Report),
            DeliveryOutcome.TemporaryFailure t when now >= policy.ExpiresAt(recipient.Address, ReceivedAt) => new RecipientFailed(t.Index, now, t.Report, Expired: true),
            DeliveryOutcome.TemporaryFailure t => new RecipientDeferred(t.Index, now, policy.NextAttempt(recipient.Address, recipient.Attempts + 1, now), t.Report),
            _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
        };
    }

    /// <summary>Recipients past the maximum age fail now, whatever they were waiting for.</summary>
    public IReadOnlyList<IMessageEvent> Expire(DateTimeOffset now, QueuePolicy policy, IReadOnlySet<int> inFlight)
    {
        var events = new List<IMessageEvent>();
        for (var i = 0; i < Recipients.Length; i++)
        {
            var r = Recipients[i];
            if (r.IsFinal || inFlight.Contains(i) || now < policy.ExpiresAt(r.Address, ReceivedAt))
                continue;
            var last = r.Last ?? new AttemptReport("4.4.7", "delivery time expired");
            events.Add(new RecipientFailed(i, now, last with { Dsn = last.Dsn.StartsWith('4') ? last.Dsn : "4.4.7" }, Expired: true));
        }
        return events;
    }

    /// <summary>
    /// The next notice this message owes its sender, one at a time: failures first, then the
    /// delay warning after the first failed attempt, then the one after a long wait.
    /// </summary>
    public NoticeDue? NextNotice(DateTimeOffset now, QueuePolicy policy)
    {
        if (!MayNotify || QueueId is null)
            return null;
        var failed = Indices(r => r.Status == RecipientStatus.Failed && !r.FailureNotified);
        if (failed.Count > 0)
            return new NoticeDue(NoticeKind.Failure, failed, $"{QueueId}B{FailureNotices + 1}");
        var deferred = Indices(r => r.Status == RecipientStatus.Deferred);
        if (deferred.Count == 0)
            return null;
        // A message whose first failure comes after the long wait (held mail) gets one warning, not two.
        if (policy.Delivery.DelayNoticeAfter is { } after && now - ReceivedAt >= after && !DelayNoticesSent.Contains(NoticeKind.LateDelay))
            return new NoticeDue(NoticeKind.LateDelay, deferred, $"{QueueId}D2");
        if (policy.Delivery.DelayNoticeOnFirstFailure && !DelayNoticesSent.Contains(NoticeKind.FirstDelay))
            return new NoticeDue(NoticeKind.FirstDelay, deferred, $"{QueueId}D1");
        return null;
    }

    public MessageState Apply(IMessageEvent @event) => @event switch
    {
        MessageAccepted a => this with
        {
            QueueId = a.QueueId,
            Sender = a.Sender,
            Client = a.Client,
            ReceivedAt = a.ReceivedAt,
            Size = a.Size,
            Recipients = [.. a.Recipients.Select(r => new RecipientState(r, RecipientStatus.Pending, 0, null, null))],
        },
        RecipientDelivered d => Update(d.Index, r => r with { Status = RecipientStatus.Delivered, Attempts = r.Attempts + 1, NextAttemptAt = null, Last = d.Report }),
        RecipientDeferred d => Update(d.Index, r => r with { Status = RecipientStatus.Deferred, Attempts = r.Attempts + 1, NextAttemptAt = d.NextAttemptAt, Last = d.Report }),
        RecipientFailed f => Update(f.Index, r => r with { Status = RecipientStatus.Failed, Attempts = f.Expired ? r.Attempts : r.Attempts + 1, NextAttemptAt = null, Last = f.Report, Expired = f.Expired }),
        NoticeSent { Kind: NoticeKind.Failure } n => this with
        {
            FailureNotices = FailureNotices + 1,
            Recipients = [.. Recipients.Select((r, i) => n.Recipients.Contains(i) ? r with { FailureNotified = true } : r)],
        },
        // The late warning also stands for the first one, which would only repeat it.
        NoticeSent { Kind: NoticeKind.LateDelay } => this with { DelayNoticesSent = DelayNoticesSent.Add(NoticeKind.LateDelay).Add(NoticeKind.FirstDelay) },
        NoticeSent n => this with { DelayNoticesSent = DelayNoticesSent.Add(n.Kind) },
        MessageCompleted => this with { Completed = true },
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name),
    };

    List<int> Indices(Func<RecipientState, bool> predicate) =>
        Enumerable.Range(0, Recipients.Length).Where(i => predicate(Recipients[i])).ToList();

    MessageState Update(int index, Func<RecipientState, RecipientState> change) =>
        this with { Recipients = Recipients.SetItem(index, change(Recipients[index])) };

    static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
