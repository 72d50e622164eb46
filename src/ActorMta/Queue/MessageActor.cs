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
    SmtpOutbound Outbound,
    LmtpDelivery Lmtp,
    DsnBuilder Notices,
    MessageInjector Injector,
    QueuePolicy Policy,
    TimeProvider Clock,
    ILogger Logger);

/// <summary>
/// One e-mail in the queue: an event-sourced sharded entity that owns the message's
/// recipients, their outcomes, its retry schedule and the notices it owes its sender. It
/// answers the edge only once the acceptance is durable, and stops for good once every
/// recipient is final and every notice sent.
/// </summary>
public sealed class MessageActor : ReceivePersistentActor
{
    readonly MessageActorContext _context;
    readonly string _queueId;
    readonly HashSet<int> _inFlight = [];
    MessageState _state = MessageState.Empty;
    bool _recovered;
    bool _notifying;
    bool _completing;
    bool _heldLogged;

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
        Command<NoticeQueued>(OnNoticeQueued);
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
            Proceed();
        });
    }

    void OnWake()
    {
        if (_state.Completed)
            CleanUp();
        else if (!_state.IsAccepted)
            _context.Store.FindAsync(_queueId).PipeTo(Self, success: entry => new OrphanChecked(entry));
        else
            Proceed();
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

    /// <summary>
    /// The one place that decides what happens next: expire what is too old (even when held),
    /// start the attempts that are due, and settle once nothing is running.
    /// </summary>
    void Proceed()
    {
        if (_completing || _state.Completed)
            return;
        var expired = _state.Expire(Now, _context.Policy, _inFlight);
        if (expired.Count > 0)
        {
            PersistAll(expired, e =>
            {
                _state = _state.Apply(e);
                LogAttempt(e);
            });
            DeferAsync(0, _ => Proceed());
            return;
        }
        if (_context.Settings.Queue.Hold && !_state.AllFinal)
        {
            if (!_heldLogged)
                _context.Logger.MessageHeld(_queueId);
            _heldLogged = true;
        }
        else
        {
            var due = _state.DueRecipients(Now).Where(i => !_inFlight.Contains(i)).ToList();
            foreach (var group in due.GroupBy(i => RouteOf(_state.Recipients[i].Address)))
                Attempt(group.Key, [.. group]);
        }
        Settle();
    }

    Route RouteOf(RecipientAddress recipient) =>
        recipient.Remote ? new Route(RouteKind.Smtp, recipient.Domain)
        : _context.Settings.Recipients.LmtpFor(recipient.Domain) is { } lmtp ? new Route(RouteKind.Lmtp, lmtp)
        : new Route(RouteKind.Maildir, "");

    void Attempt(Route route, IReadOnlyList<int> recipients)
    {
        _inFlight.UnionWith(recipients);
        var state = _state;
        var context = _context;
        var checkExisting = _recovered;
        Task.Run(async () =>
        {
            var body = await context.Store.ReadBodyAsync(state.QueueId!).ConfigureAwait(false);
            if (body is null)
            {
                context.Logger.BodyMissing(state.QueueId!);
                var missing = new AttemptReport("4.3.0", "message body missing from the queue store");
                return new AttemptFinished(recipients, [.. recipients.Select(i => new DeliveryOutcome.TemporaryFailure(i, missing))]);
            }
            var addresses = recipients.Select(i => new OutboundRecipient(i, state.Recipients[i].Address.Mailbox)).ToList();
            var outcomes = route.Kind switch
            {
                RouteKind.Smtp => await context.Outbound.DeliverAsync(route.Target, state.Sender, addresses, body, CancellationToken.None).ConfigureAwait(false),
                RouteKind.Lmtp => await context.Lmtp.DeliverAsync(route.Target, state.Sender, addresses, WithReturnPath(state, body), CancellationToken.None).ConfigureAwait(false),
                _ => DeliverLocally(state, recipients, body, checkExisting, context),
            };
            return new AttemptFinished(recipients, outcomes);
        }).PipeTo(Self, failure: e => new AttemptFinished(recipients,
            [.. recipients.Select(i => new DeliveryOutcome.TemporaryFailure(i, new AttemptReport("4.3.0", $"delivery failed: {e.GetBaseException().Message}")))]));
    }

    /// <summary>Final delivery over LMTP: the mailbox server records the envelope sender (RFC 5321 §4.4).</summary>
    static byte[] WithReturnPath(MessageState state, byte[] body) =>
        [.. System.Text.Encoding.UTF8.GetBytes($"Return-Path: <{state.Sender}>\r\n"), .. body];

    static IReadOnlyList<DeliveryOutcome> DeliverLocally(MessageState state, IReadOnlyList<int> recipients, byte[] body, bool checkExisting, MessageActorContext context)
    {
        var outcomes = new List<DeliveryOutcome>(recipients.Count);
        foreach (var index in recipients)
        {
            var recipient = state.Recipients[index].Address;
            try
            {
                var path = context.Maildir.Deliver(recipient.Mailbox, state.QueueId!, index, state.ReceivedAt, state.Sender, recipient.Original, body, checkExisting);
                outcomes.Add(new DeliveryOutcome.Delivered(index, new AttemptReport("2.0.0", $"delivered to maildir {Path.GetFileName(path)}", Relay: "local")));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                outcomes.Add(new DeliveryOutcome.TemporaryFailure(index, new AttemptReport("4.2.0", $"maildir delivery failed: {e.Message}", Relay: "local")));
            }
        }
        return outcomes;
    }

    void OnAttemptFinished(AttemptFinished finished)
    {
        var now = Now;
        var events = finished.Outcomes.Select(o => _state.Record(o, now, _context.Policy)).ToList();
        PersistAll(events, e =>
        {
            _state = _state.Apply(e);
            LogAttempt(e);
        });
        DeferAsync(0, _ =>
        {
            _inFlight.ExceptWith(finished.Recipients);
            Settle();
        });
    }

    /// <summary>Once no attempt runs: send the notices owed, then finish or wait for the next retry.</summary>
    void Settle()
    {
        if (_inFlight.Count > 0 || _notifying || _completing)
            return;
        if (_state.NextNotice(Now, _context.Policy) is { } notice)
        {
            SendNotice(notice);
            return;
        }
        if (_state.IsFinished)
            Complete();
        else if (!_context.Settings.Queue.Hold)
            Reschedule();
    }

    void SendNotice(NoticeDue notice)
    {
        _notifying = true;
        var state = _state;
        var context = _context;
        var messages = ClusterSharding.Get(Context.System).ShardRegion("message");
        var now = Now;
        Task.Run(async () =>
        {
            var original = await context.Store.ReadBodyAsync(state.QueueId!).ConfigureAwait(false) ?? [];
            var dsn = context.Notices.Build(state, notice, original, context.Policy, now);
            await context.Injector.InjectAsync(messages, notice.NoticeQueueId, "", [state.Sender], dsn, now).ConfigureAwait(false);
            return new NoticeQueued(notice);
        }).PipeTo(Self);
    }

    void OnNoticeQueued(NoticeQueued queued)
    {
        var notice = queued.Notice;
        Persist(new NoticeSent(notice.Kind, notice.Recipients, notice.NoticeQueueId, Now), e =>
        {
            _state = _state.Apply(e);
            _context.Logger.NoticeSent(_queueId, notice.Kind.ToString(), notice.NoticeQueueId, _state.Sender, notice.Recipients.Count);
            _notifying = false;
            Settle();
        });
    }

    void LogAttempt(IMessageEvent e)
    {
        var (index, report, word) = e switch
        {
            RecipientDelivered d => (d.Index, d.Report, "sent"),
            RecipientDeferred d => (d.Index, d.Report, "deferred"),
            RecipientFailed f => (f.Index, f.Report, f.Expired ? "expired" : "bounced"),
            _ => (-1, null, ""),
        };
        if (report is null)
            return;
        var recipient = _state.Recipients[index].Address;
        _context.Logger.DeliveryAttempt(_queueId, recipient.Mailbox, recipient.Original, report.Relay ?? "none", (Now - _state.ReceivedAt).TotalSeconds, report.Dsn, word, report.Text);
    }

    /// <summary>Waiting for a retry needs no live actor: the queue row carries the due time.</summary>
    void Reschedule()
    {
        if (_state.NextWakeAt(_context.Policy) is not { } next)
            return;
        _context.Store.RescheduleAsync(_queueId, next, QueueStore.Deferred)
            .ContinueWith(t => t.IsFaulted ? (object)new Status.Failure(t.Exception!) : new Settled())
            .PipeTo(Self);
    }

    void Complete()
    {
        _completing = true;
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
                return (object)new Status.Failure(t.Exception!);
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
            // A failed store or notice operation: stop, and let the queue row's lease bring the message back.
            _context.Logger.QueueStoreFailed(_queueId, failure.Cause.GetBaseException().Message);
            Stop();
            return;
        }
        base.Unhandled(message);
    }

    enum RouteKind
    {
        Maildir,
        Lmtp,
        Smtp,
    }

    /// <summary>How a group of recipients is reached: one attempt per route.</summary>
    sealed record Route(RouteKind Kind, string Target);

    sealed record AttemptFinished(IReadOnlyList<int> Recipients, IReadOnlyList<DeliveryOutcome> Outcomes);

    sealed record NoticeQueued(NoticeDue Notice);

    sealed record OrphanChecked(QueueEntry? Entry);

    sealed record Settled;
}
