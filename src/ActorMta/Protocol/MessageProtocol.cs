namespace ActorMta.Protocol;

/// <summary>Everything that crosses an actor boundary or enters the journal; bound to <see cref="Persistence.ProtocolSerializer"/>.</summary>
public interface IProtocolMessage;

/// <summary>A command for one message's actor; the queue id is the shard entity id.</summary>
public interface IMessageCommand : IProtocolMessage
{
    string QueueId { get; }
}

/// <summary>
/// From the edge at the end of DATA, after the body is stored: take responsibility for
/// this message. The reply (<see cref="MessageQueued"/>) comes only once that is persisted.
/// </summary>
/// <param name="AcceptBy">
/// After this the edge has given up and told the client 451: an acceptance persisted later
/// must not be delivered, or the client's retry would make a duplicate.
/// </param>
public sealed record AcceptMessage(
    string QueueId,
    string Sender,
    IReadOnlyList<string> Recipients,
    string Client,
    DateTimeOffset ReceivedAt,
    long Size,
    DateTimeOffset AcceptBy) : IMessageCommand;

/// <summary>From the queue scheduler: the message is due (new after a restart, or a retry).</summary>
public sealed record WakeMessage(string QueueId) : IMessageCommand;

/// <summary>From the edge when it answered 4xx after all: the client will send again, so drop this copy.</summary>
public sealed record AbandonMessage(string QueueId) : IMessageCommand;

/// <summary>The Accepted event is durable: the edge may answer 250.</summary>
public sealed record MessageQueued(string QueueId) : IProtocolMessage;
