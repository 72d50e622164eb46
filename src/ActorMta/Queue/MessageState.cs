using System.Collections.Immutable;
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

public sealed record RecipientState(RecipientAddress Address, RecipientStatus Status, int Attempts, DateTimeOffset? NextAttemptAt, string? LastStatus)
{
    public bool IsFinal => Status is RecipientStatus.Delivered or RecipientStatus.Failed;

    public bool IsDue(DateTimeOffset now) =>
        Status == RecipientStatus.Pending || (Status == RecipientStatus.Deferred && NextAttemptAt <= now);
}

/// <summary>The outcome of one delivery attempt to one recipient.</summary>
public abstract record DeliveryOutcome(int Index, string Status)
{
    public sealed record Delivered(int Index, string Status) : DeliveryOutcome(Index, Status);
    public sealed record TemporaryFailure(int Index, string Status) : DeliveryOutcome(Index, Status);
    public sealed record PermanentFailure(int Index, string Status) : DeliveryOutcome(Index, Status);
}

/// <summary>
/// One message's state, rebuilt from its journal. Commands become events here and events
/// change the state here, so the queue's rules are tested without an actor system.
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
    public bool Abandoned { get; init; }
    public bool Completed { get; init; }

    public bool IsAccepted => QueueId is not null;
    public bool AllFinal => IsAccepted && (Abandoned || Recipients.All(r => r.IsFinal));

    /// <summary>The earliest retry among deferred recipients, if any is waiting.</summary>
    public DateTimeOffset? NextAttemptAt =>
        Recipients.Where(r => r.Status == RecipientStatus.Deferred).Select(r => r.NextAttemptAt).Min();

    public IReadOnlyList<int> DueRecipients(DateTimeOffset now) =>
        Enumerable.Range(0, Recipients.Length).Where(i => Recipients[i].IsDue(now)).ToList();

    /// <summary>
    /// Expands aliases and drops duplicate mailboxes: two RCPTs that reach one mailbox
    /// get one copy. A repeated accept of an accepted message changes nothing.
    /// </summary>
    public IReadOnlyList<IMessageEvent> Accept(AcceptMessage command, RecipientDirectory directory)
    {
        if (IsAccepted)
            return [];
        var recipients = new List<RecipientAddress>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var original in command.Recipients)
        {
            var (local, domain) = MailAddress.Split(original);
            if (directory.Lookup(local, domain) is not RecipientLookup.Local found)
                continue;
            foreach (var mailbox in found.Mailboxes)
            {
                if (seen.Add(mailbox))
                    recipients.Add(new RecipientAddress(original, mailbox));
            }
        }
        return [new MessageAccepted(command.QueueId, command.Sender, recipients, command.Client, command.ReceivedAt, command.Size)];
    }

    public IMessageEvent Record(DeliveryOutcome outcome, DateTimeOffset now, RetrySchedule schedule) => outcome switch
    {
        DeliveryOutcome.Delivered d => new RecipientDelivered(d.Index, now, d.Status),
        DeliveryOutcome.PermanentFailure f => new RecipientFailed(f.Index, now, f.Status),
        DeliveryOutcome.TemporaryFailure t => new RecipientDeferred(
            t.Index, now, now + schedule.IntervalAfter(Recipients[t.Index].Attempts + 1), t.Status),
        _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
    };

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
        RecipientDelivered d => Update(d.Index, r => r with { Status = RecipientStatus.Delivered, Attempts = r.Attempts + 1, NextAttemptAt = null, LastStatus = d.Status }),
        RecipientDeferred d => Update(d.Index, r => r with { Status = RecipientStatus.Deferred, Attempts = r.Attempts + 1, NextAttemptAt = d.NextAttemptAt, LastStatus = d.Status }),
        RecipientFailed f => Update(f.Index, r => r with { Status = RecipientStatus.Failed, Attempts = r.Attempts + 1, NextAttemptAt = null, LastStatus = f.Status }),
        MessageAbandoned => this with { Abandoned = true },
        MessageCompleted => this with { Completed = true },
        _ => throw new ArgumentOutOfRangeException(nameof(@event), @event.GetType().Name),
    };

    MessageState Update(int index, Func<RecipientState, RecipientState> change) =>
        this with { Recipients = Recipients.SetItem(index, change(Recipients[index])) };
}
