using Akka.Actor;
using Akka.Persistence;
using ActorMta.Protocol;

namespace ActorMta.Queue;

/// <summary>
/// The journal of one message, as a child of its <see cref="MessageActor"/>. It exists only
/// when the message has a journal to read or something to add to it: starting it costs a
/// query (the highest sequence number), which a message delivered at its first attempt never
/// pays. It replays the events to its parent, persists what it is told and deletes the lot
/// at the end; the decisions are the parent's.
/// </summary>
public sealed class MessageJournal : ReceivePersistentActor
{
    List<IMessageEvent>? _recovered = [];

    public MessageJournal(string queueId)
    {
        PersistenceId = "message-" + queueId;
        Recover<IMessageEvent>(e => _recovered!.Add(e));
        Recover<RecoveryCompleted>(_ =>
        {
            Context.Parent.Tell(new JournalRecovered(_recovered!));
            _recovered = null;
        });
        Command<JournalRemember>(remember =>
        {
            PersistAll(remember.Events, _ => { });
            DeferAsync(remember, r => Context.Parent.Tell(new JournalRemembered(r.Events)));
        });
        Command<JournalForget>(_ =>
        {
            // Handed to the journal actor now; it needs this actor no longer.
            if (LastSequenceNr > 0)
                DeleteMessages(LastSequenceNr);
            Context.Parent.Tell(JournalForgotten.Instance);
        });
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(_ => { });
    }

    public override string PersistenceId { get; }

    /// <summary>Messages take no snapshots: recovery need not ask the snapshot store, a query per message.</summary>
    public override Recovery Recovery { get; } = new(SnapshotSelectionCriteria.None);

    public static Props Props(string queueId) => Akka.Actor.Props.Create(() => new MessageJournal(queueId));
}

/// <summary>The journal's events, in order; none for a message that never had to remember anything.</summary>
public sealed record JournalRecovered(IReadOnlyList<IMessageEvent> Events);

/// <summary>Persist these, all or none; <see cref="JournalRemembered"/> follows once they are durable.</summary>
public sealed record JournalRemember(IReadOnlyList<IMessageEvent> Events);

public sealed record JournalRemembered(IReadOnlyList<IMessageEvent> Events);

/// <summary>The message is done with: delete its events.</summary>
public sealed class JournalForget
{
    public static readonly JournalForget Instance = new();
}

public sealed class JournalForgotten
{
    public static readonly JournalForgotten Instance = new();
}
