namespace ActorMta.Protocol;

/// <summary>An event in one message's journal. Renaming one breaks old journals: add, never rename.</summary>
public interface IMessageEvent : IProtocolMessage;

/// <param name="Original">The address as the client gave it at RCPT.</param>
/// <param name="Mailbox">Where it goes: a local mailbox after alias expansion, or the remote address.</param>
/// <param name="Remote">Delivered over SMTP to another server rather than locally.</param>
public sealed record RecipientAddress(string Original, string Mailbox, bool Remote = false)
{
    public string Domain => MailAddress.Split(Mailbox).Domain;
}

/// <summary>What one attempt at one recipient came to, in the terms of a DSN (RFC 3464) and of the log.</summary>
/// <param name="Dsn">The enhanced status code (RFC 3463), e.g. 5.1.1.</param>
/// <param name="Text">A one-line explanation for people.</param>
/// <param name="RemoteMta">The host that answered, for the DSN's Remote-MTA field.</param>
/// <param name="Relay">Where the attempt went, as logged: host[ip]:port, or "local".</param>
/// <param name="Diagnostic">The remote server's reply, for the DSN's Diagnostic-Code field.</param>
public sealed record AttemptReport(string Dsn, string Text, string? RemoteMta = null, string? Relay = null, string? Diagnostic = null);

public sealed record MessageAccepted(
    string QueueId,
    string Sender,
    IReadOnlyList<RecipientAddress> Recipients,
    string Client,
    DateTimeOffset ReceivedAt,
    long Size) : IMessageEvent;

public sealed record RecipientDelivered(int Index, DateTimeOffset At, AttemptReport Report) : IMessageEvent;

public sealed record RecipientDeferred(int Index, DateTimeOffset At, DateTimeOffset NextAttemptAt, AttemptReport Report) : IMessageEvent;

/// <param name="Expired">Failed because the message reached its maximum age in the queue, not by a permanent reply.</param>
public sealed record RecipientFailed(int Index, DateTimeOffset At, AttemptReport Report, bool Expired = false) : IMessageEvent;

/// <summary>A delivery status notification about these recipients was queued as message <paramref name="NoticeQueueId"/>.</summary>
public sealed record NoticeSent(NoticeKind Kind, IReadOnlyList<int> Recipients, string NoticeQueueId, DateTimeOffset At) : IMessageEvent;

public enum NoticeKind
{
    /// <summary>Recipients failed for good (RFC 3464 Action: failed).</summary>
    Failure,

    /// <summary>The first attempt failed and delivery will be retried (Action: delayed).</summary>
    FirstDelay,

    /// <summary>The message has waited long (12 hours by default) and is still being retried.</summary>
    LateDelay,
}

/// <summary>Every recipient is final and every notice sent; the body and queue entry may go.</summary>
public sealed record MessageCompleted(DateTimeOffset At) : IMessageEvent;
