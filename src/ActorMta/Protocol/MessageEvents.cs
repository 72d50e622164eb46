namespace ActorMta.Protocol;

/// <summary>An event in one message's journal. Renaming one breaks old journals: add, never rename.</summary>
public interface IMessageEvent : IProtocolMessage;

/// <param name="Original">The address as the client gave it at RCPT.</param>
/// <param name="Mailbox">The local mailbox it reaches after alias expansion.</param>
public sealed record RecipientAddress(string Original, string Mailbox);

public sealed record MessageAccepted(
    string QueueId,
    string Sender,
    IReadOnlyList<RecipientAddress> Recipients,
    string Client,
    DateTimeOffset ReceivedAt,
    long Size) : IMessageEvent;

public sealed record RecipientDelivered(int Index, DateTimeOffset At, string Status) : IMessageEvent;

public sealed record RecipientDeferred(int Index, DateTimeOffset At, DateTimeOffset NextAttemptAt, string Status) : IMessageEvent;

public sealed record RecipientFailed(int Index, DateTimeOffset At, string Status) : IMessageEvent;

/// <summary>The client was told 4xx after the message had been accepted; it will send again.</summary>
public sealed record MessageAbandoned(DateTimeOffset At) : IMessageEvent;

/// <summary>Every recipient is final; the body and queue entry may go.</summary>
public sealed record MessageCompleted(DateTimeOffset At) : IMessageEvent;
