namespace ActorMta.Protocol;

/// <summary>Everything that crosses an actor boundary or enters the journal; bound to <see cref="Persistence.ProtocolSerializer"/>.</summary>
public interface IProtocolMessage;

/// <summary>A command for one message's actor; the queue id is the shard entity id.</summary>
public interface IMessageCommand : IProtocolMessage
{
    string QueueId { get; }
}

/// <summary>
/// The message is due: from the edge right after it accepted the message, and from the queue
/// scheduler when a retry or a lease comes due (or after a restart).
/// </summary>
/// <param name="Accepted">
/// From whoever has just stored the message: its envelope, as written to the queue row. The
/// message has no journal and no attempt can have delivered any of it yet, so the actor starts
/// from this without reading the row back, and local delivery need not look for a copy left by
/// one that crashed.
/// </param>
public sealed record WakeMessage(string QueueId, MessageAccepted? Accepted = null) : IMessageCommand;
