using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Persistence;
using ActorMta.Config;
using ActorMta.Delivery;
using ActorMta.Persistence;
using ActorMta.Protocol;
using Microsoft.Extensions.Logging;

namespace ActorMta.Queue;

/// <summary>Marker for the shard region of message actors in the actor registry.</summary>
public sealed class MessageRegion;

/// <summary>What every message actor needs; one instance shared by all of them.</summary>
public sealed record MessageActorContext(
    ActorMtaSettings Settings,
    QueueStore Store,
    MaildirDelivery Maildir,
    RetrySchedule Retry,
    TimeProvider Clock,
    ILogger Logger);

/// <summary>
/// One e-mail in the queue: an event-sourced sharded entity that owns the message's
/// recipients, their outcomes and its retry schedule. It answers the edge only once the
/// acceptance is durable, and stops for good once every recipient is final.
/// </summary>
public sealed class MessageActor : ReceivePersistentActor
{
    readonly MessageActorContext _context;
    readonly string _queueId;
    MessageState _state = MessageState.Empty;
    bool _recovered;
    bool _delivering;

    public MessageActor(string queueId, MessageActorContext context)
    {
        _queueId = queueId;
        _context = context;
        PersistenceId = "message-" + queueId;

        Recover<IMessageEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => _recovered = _state.IsAccepted);

        Command<AcceptMessage>(OnAccept);
        Command<WakeMessage>(_ => OnWake());
        Command<AbandonMessage>(_ => OnAbandon());
        Command<AttemptFinished>(OnAttemptFinished);
        Command<Settled>(_ => Stop());
        Command<OrphanChecked>(OnOrphanChecked);
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(_ => { });
    }

    public override string PersistenceId { get; }

    public static Props Props(string queueId, MessageActorContext context) =>
        Akka.Actor.Props.Create(() => new MessageActor(queueId, context));

    DateTimeOffset Now => _context.Clock.GetUtcNow();

    void OnAccept(AcceptMessage command)
    {
        if (_state.IsAccepted)
        {
            if (!_state.Abandoned)
                Sender.Tell(new MessageQueued(_queueId));
            return;
        }
        if (Now > command.AcceptBy)
            return; // the edge has answered 451 already; its AbandonMessage removes the body
        var events = _state.Accept(command, _context.Settings.Recipients);
        var replyTo = Sender;
        PersistAll(events, e =>
        {
            _state = _state.Apply(e);
            if (Now > command.AcceptBy)
            {
                // Durable, but too late: the client was told to retry and will send it again.
                Abandon();
                return;
            }
            replyTo.Tell(new MessageQueued(_queueId));
            StartDelivery();
        });
    }

    void OnWake()
    {
        if (_state.Completed)
            CleanUp();
        else if (!_state.IsAccepted)
            _context.Store.FindAsync(_queueId).PipeTo(Self, success: entry => new OrphanChecked(entry));
        else
            StartDelivery();
    }

    void OnAbandon()
    {
        if (!_state.IsAccepted)
            CleanUp();
        else if (!_state.AllFinal)
            Abandon();
    }

    void Abandon()
    {
        Persist(new MessageAbandoned(Now), e =>
        {
            _state = _state.Apply(e);
            _context.Logger.MessageAbandoned(_queueId);
            Complete();
        });
    }

    /// <summary>
    /// A queue row with no accepted message: the edge stored the body but never got the
    /// acceptance persisted. Young rows may still be mid-accept, so only old ones are removed.
    /// </summary>
    void OnOrphanChecked(OrphanChecked check)
    {
        if (check.Entry is { } entry && Now - entry.CreatedAt > 2 * _context.Settings.Smtp.AcceptTimeout)
        {
            _context.Logger.OrphanRemoved(_queueId);
            CleanUp();
        }
        else
        {
            Stop();
        }
    }

    void StartDelivery()
    {
        if (_delivering || _state.AllFinal)
        {
            if (_state.AllFinal && !_state.Completed)
                Complete();
            return;
        }
        if (_context.Settings.Queue.Hold)
        {
            _context.Logger.MessageHeld(_queueId);
            return;
        }
        var due = _state.DueRecipients(Now);
        if (due.Count == 0)
        {
            Reschedule();
            return;
        }
        _delivering = true;
        var state = _state;
        var checkExisting = _recovered;
        var context = _context;
        DeliverLocally(state, due, checkExisting, context).PipeTo(Self, success: outcomes => new AttemptFinished(outcomes));
    }

    static async Task<IReadOnlyList<DeliveryOutcome>> DeliverLocally(MessageState state, IReadOnlyList<int> due, bool checkExisting, MessageActorContext context)
    {
        var body = await context.Store.ReadBodyAsync(state.QueueId!).ConfigureAwait(false);
        if (body is null)
        {
            context.Logger.BodyMissing(state.QueueId!);
            return due.Select(i => (DeliveryOutcome)new DeliveryOutcome.TemporaryFailure(i, "4.3.0 message body missing from the queue store")).ToList();
        }
        var outcomes = new List<DeliveryOutcome>(due.Count);
        foreach (var index in due)
        {
            var recipient = state.Recipients[index].Address;
            try
            {
                var path = context.Maildir.Deliver(recipient.Mailbox, state.QueueId!, index, state.ReceivedAt, state.Sender, recipient.Original, body, checkExisting);
                outcomes.Add(new DeliveryOutcome.Delivered(index, $"2.0.0 delivered to maildir {Path.GetFileName(path)}"));
            }
            catch (IOException e)
            {
                outcomes.Add(new DeliveryOutcome.TemporaryFailure(index, $"4.2.0 maildir delivery failed: {e.Message}"));
            }
            catch (UnauthorizedAccessException e)
            {
                outcomes.Add(new DeliveryOutcome.TemporaryFailure(index, $"4.2.0 maildir delivery failed: {e.Message}"));
            }
        }
        return outcomes;
    }

    void OnAttemptFinished(AttemptFinished finished)
    {
        _delivering = false;
        var now = Now;
        var events = finished.Outcomes.Select(o => _state.Record(o, now, _context.Retry)).ToList();
        PersistAll(events, e =>
        {
            _state = _state.Apply(e);
            LogAttempt(e, now);
        });
        DeferAsync(now, _ =>
        {
            if (_state.AllFinal)
                Complete();
            else
                Reschedule();
        });
    }

    void LogAttempt(IMessageEvent e, DateTimeOffset now)
    {
        var (index, status, word) = e switch
        {
            RecipientDelivered d => (d.Index, d.Status, "sent"),
            RecipientDeferred d => (d.Index, d.Status, "deferred"),
            RecipientFailed f => (f.Index, f.Status, "bounced"),
            _ => (-1, "", ""),
        };
        if (index < 0)
            return;
        var recipient = _state.Recipients[index].Address;
        var space = status.IndexOf(' ', StringComparison.Ordinal);
        var dsn = space > 0 ? status[..space] : status;
        var detail = space > 0 ? status[(space + 1)..] : status;
        _context.Logger.DeliveryAttempt(_queueId, recipient.Mailbox, recipient.Original, "local", (now - _state.ReceivedAt).TotalSeconds, dsn, word, detail);
    }

    /// <summary>Waiting for a retry needs no live actor: the queue row carries the due time.</summary>
    void Reschedule()
    {
        if (_state.NextAttemptAt is not { } next)
            return;
        _context.Store.RescheduleAsync(_queueId, next, QueueStore.Deferred)
            .ContinueWith(t => t.IsFaulted ? (object)new Status.Failure(t.Exception!) : new Settled())
            .PipeTo(Self);
    }

    void Complete()
    {
        Persist(new MessageCompleted(Now), e =>
        {
            _state = _state.Apply(e);
            CleanUp();
        });
    }

    /// <summary>Body and queue row go first, the journal last: a crash in between leaves a row that a later wake cleans.</summary>
    void CleanUp()
    {
        var queueId = _queueId;
        var logger = _context.Logger;
        var wasAccepted = _state.IsAccepted;
        _context.Store.RemoveAsync(queueId).ContinueWith(t =>
        {
            if (t.IsFaulted)
            {
                logger.QueueStoreFailed(queueId, t.Exception!.GetBaseException().Message);
                return (object)new Status.Failure(t.Exception!);
            }
            if (wasAccepted)
                logger.MessageRemoved(queueId);
            return new Settled();
        }).PipeTo(Self);
        if (LastSequenceNr > 0)
            DeleteMessages(LastSequenceNr);
    }

    void Stop() => Context.Parent.Tell(new Passivate(PoisonPill.Instance));

    protected override void Unhandled(object message)
    {
        if (message is Status.Failure failure)
        {
            // A failed store operation: stop, and let the queue row's lease bring the message back.
            _context.Logger.QueueStoreFailed(_queueId, failure.Cause.GetBaseException().Message);
            Stop();
            return;
        }
        base.Unhandled(message);
    }

    sealed record AttemptFinished(IReadOnlyList<DeliveryOutcome> Outcomes);

    sealed record OrphanChecked(QueueEntry? Entry);

    sealed record Settled;
}
