using Akka.Actor;
using Akka.Cluster.Sharding;
using ActorMta.Config;
using ActorMta.Delivery;
using ActorMta.Persistence;
using ActorMta.Protocol;
using ActorMta.Routing;
using Microsoft.Extensions.Logging;

namespace ActorMta.Queue;

/// <summary>Marker for the shard region of message actors in the actor registry.</summary>
public sealed class MessageRegion;

/// <summary>What every message actor needs; one instance shared by all of them.</summary>
public sealed record MessageActorContext(
    ActorMtaSettings Settings,
    QueueStore Store,
    MaildirDelivery Maildir,
    DestinationKeys Keys,
    LmtpDelivery Lmtp,
    DsnBuilder Notices,
    MessageInjector Injector,
    QueuePolicy Policy,
    TimeProvider Clock,
    ILogger Logger);

/// <summary>
/// One e-mail in the queue: a sharded entity that owns the message's recipients, their
/// outcomes, its retry schedule and the notices it owes its sender, and stops for good once
/// every recipient is final and every notice sent. Its state starts from the envelope in the
/// queue row and is event-sourced from there: what it must remember goes to its journal
/// (<see cref="MessageJournal"/>), and a restarted message is rebuilt from that journal.
/// Remote recipients are handed to their destination's router; local ones are delivered from here.
/// </summary>
public sealed class MessageActor : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    readonly MessageActorContext _context;
    readonly string _queueId;
    readonly HashSet<int> _inFlight = [];

    /// <summary>Recipients handed to a router and not yet reported, by attempt id.</summary>
    readonly Dictionary<string, HashSet<int>> _handedOver = new(StringComparer.Ordinal);
    MessageState _state = MessageState.Empty;
    MessageAccepted? _accepted;

    /// <summary>The journal child, once the message has a journal to read or to write.</summary>
    IActorRef? _journal;

    /// <summary>The journal starts with the acceptance: it has something to remember (see <see cref="Remember"/>).</summary>
    bool _journaled;

    /// <summary>An earlier incarnation may have delivered to local mailboxes before it crashed.</summary>
    bool _mayHaveDelivered = true;

    bool _loading;
    bool _notifying;
    bool _completing;
    bool _heldLogged;
    bool _forgetting;
    bool _rowSettled;

    public MessageActor(string queueId, MessageActorContext context)
    {
        _queueId = queueId;
        _context = context;

        Receive<WakeMessage>(OnWake);
        Receive<JournalRecovered>(OnJournalRecovered);
        Receive<EnvelopeLoaded>(OnEnvelopeLoaded);
        Receive<AttemptFinished>(finished => Record(finished.Outcomes, finished.Recipients));
        Receive<RouteAttemptFinished>(OnRouteAttemptFinished);
        Receive<RouterSilent>(OnRouterSilent);
        Receive<NoticeQueued>(OnNoticeQueued);
        Receive<Settled>(_ => OnSettled());
        Receive<JournalForgotten>(_ => OnForgotten());
        Receive<Terminated>(OnJournalStopped);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    public static Props Props(string queueId, MessageActorContext context) =>
        Akka.Actor.Props.Create(() => new MessageActor(queueId, context));

    DateTimeOffset Now => _context.Clock.GetUtcNow();

    void OnWake(WakeMessage wake)
    {
        if (_state.Completed)
        {
            CleanUp();
        }
        else if (_state.IsAccepted)
        {
            Proceed();
        }
        else if (wake.Accepted is { } accepted && !_loading)
        {
            // Stored a moment ago: its journal is empty and nothing has been delivered.
            _mayHaveDelivered = false;
            Start(accepted);
        }
        else if (!_loading)
        {
            _loading = true;
            StartJournal();
        }
    }

    void StartJournal() => _journal = Context.Watch(Context.ActorOf(MessageJournal.Props(_queueId), "journal"));

    void OnJournalRecovered(JournalRecovered recovered)
    {
        if (!_loading || _state.IsAccepted)
            return; // the journal was started to be written to, and had nothing to tell
        if (recovered.Events.Count == 0)
        {
            // A journal that does not start with the acceptance is empty: the envelope is in the queue row.
            LoadEnvelope();
            return;
        }
        _loading = false;
        _journaled = true;
        foreach (var e in recovered.Events)
        {
            if (e is MessageAccepted accepted)
                _accepted = accepted;
            _state = _state.Apply(e);
        }
        if (_state.Completed)
            CleanUp();
        else
            Proceed();
    }

    void LoadEnvelope() =>
        _context.Store.FindAsync(_queueId).PipeTo(Self, success: entry => new EnvelopeLoaded(entry));

    void OnEnvelopeLoaded(EnvelopeLoaded loaded)
    {
        _loading = false;
        switch (loaded.Entry)
        {
            case null:
                // Done with and removed by an earlier incarnation; a late wake finds nothing.
                Stop();
                break;
            case { Accepted: null }:
                // Left by a version that kept the acceptance in the journal, which never got it.
                _context.Logger.OrphanRemoved(_queueId);
                CleanUp();
                break;
            case { Accepted: { } accepted }:
                Start(accepted);
                break;
        }
    }

    void Start(MessageAccepted accepted)
    {
        _accepted = accepted;
        _state = _state.Apply(accepted);
        Proceed();
    }

    /// <summary>
    /// A message delivered at its first attempt needs no journal: its acceptance is in the queue
    /// row, and its completion is the row's removal. The journal records only what the queue row
    /// cannot, once there is something to remember (a deferral, a failure, a notice), and then
    /// starts with the acceptance so that the message recovers from it alone. Until the events
    /// are durable nothing else is handled (as with Akka's PersistAll); then
    /// <paramref name="handler"/> sees each one, and <paramref name="then"/> runs.
    /// </summary>
    void Remember(IReadOnlyList<IMessageEvent> events, Action<IMessageEvent> handler, Action? then = null)
    {
        if (!_journaled)
        {
            _journaled = true;
            events = [_accepted!, .. events];
        }
        if (_journal is null)
            StartJournal();
        _journal!.Tell(new JournalRemember(events));
        BecomeStacked(() =>
        {
            Receive<JournalRemembered>(remembered =>
            {
                UnbecomeStacked();
                foreach (var e in remembered.Events)
                {
                    if (e is not MessageAccepted)
                        handler(e);
                }
                then?.Invoke();
                Stash.UnstashAll();
            });
            Receive<JournalRecovered>(_ => { });
            Receive<Terminated>(OnJournalStopped);
            ReceiveAny(_ => Stash.Stash());
        });
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
            Remember(expired, e =>
            {
                _state = _state.Apply(e);
                LogAttempt(e);
            }, then: Proceed);
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
            {
                if (group.Key.Kind == RouteKind.Smtp)
                    HandOver(group.Key.Target, [.. group]);
                else
                    Attempt(group.Key, [.. group]);
            }
        }
        Settle();
    }

    Route RouteOf(RecipientAddress recipient) =>
        recipient.Remote ? new Route(RouteKind.Smtp, recipient.Domain)
        : _context.Settings.Recipients.LmtpFor(recipient.Domain) is { } lmtp ? new Route(RouteKind.Lmtp, lmtp)
        : new Route(RouteKind.Maildir, "");

    /// <summary>
    /// Remote recipients go to their destination's router, perhaps on another node. Its report
    /// comes back through the message region; if none comes in time the attempt counts as a
    /// temporary failure, so nothing waits forever on a router that died or moved.
    /// </summary>
    void HandOver(string domain, IReadOnlyList<int> recipients)
    {
        var attemptId = Guid.NewGuid().ToString("N");
        var routing = _context.Settings.Routing;
        _inFlight.UnionWith(recipients);
        _handedOver[attemptId] = [.. recipients];
        Timers.StartSingleTimer(attemptId, new RouterSilent(attemptId, domain), routing.ReplyTimeout);
        var request = new DeliverVia("", _queueId, attemptId, _state.Sender, domain,
            [.. recipients.Select(i => new OutboundRecipient(i, _state.Recipients[i].Address.Mailbox))], Now + routing.QueueTimeout);
        var routes = ClusterSharding.Get(Context.System).ShardRegion("route");
        _context.Keys.ForDomainAsync(domain, CancellationToken.None).ContinueWith(
            key => routes.Tell(request with { Destination = key.IsCompletedSuccessfully ? key.Result : MailAddress.NormalizeDomain(domain) }),
            TaskScheduler.Default);
    }

    /// <summary>
    /// A router reports each transaction on its own, so one hand-over may have several
    /// reports. A report this actor no longer waits for (the wait timed out, or an earlier
    /// incarnation handed the recipients over) still counts where it is a fact: a delivery or
    /// a permanent refusal of a recipient that is neither final nor being tried again.
    /// </summary>
    void OnRouteAttemptFinished(RouteAttemptFinished finished)
    {
        if (!_state.IsAccepted)
            return;
        var waiting = _handedOver.GetValueOrDefault(finished.AttemptId) ?? [];
        var outcomes = finished.Outcomes.Where(o => waiting.Remove(o.Index) || IsLateFact(o)).ToList();
        if (waiting.Count == 0 && _handedOver.Remove(finished.AttemptId))
            Timers.Cancel(finished.AttemptId);
        if (outcomes.Count > 0)
            Record(outcomes, [.. outcomes.Select(o => o.Index)]);
    }

    bool IsLateFact(DeliveryOutcome outcome) =>
        outcome is not DeliveryOutcome.TemporaryFailure
        && outcome.Index < _state.Recipients.Length
        && !_state.Recipients[outcome.Index].IsFinal
        && !_inFlight.Contains(outcome.Index);

    void OnRouterSilent(RouterSilent silent)
    {
        if (!_handedOver.Remove(silent.AttemptId, out var waiting))
            return;
        var report = new AttemptReport("4.4.0", $"no report from the router of {silent.Domain} within {_context.Settings.Routing.ReplyTimeout}; will retry", Relay: "none");
        Record([.. waiting.Select(i => new DeliveryOutcome.TemporaryFailure(i, report))], [.. waiting]);
    }

    void Attempt(Route route, IReadOnlyList<int> recipients)
    {
        _inFlight.UnionWith(recipients);
        var state = _state;
        var context = _context;
        var checkExisting = _mayHaveDelivered;
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

    /// <param name="finished">The recipients whose attempt is over (with or without an outcome).</param>
    void Record(IReadOnlyList<DeliveryOutcome> outcomes, IReadOnlyList<int> finished)
    {
        // Late reports for a message already completing change nothing.
        if (_completing || _state.Completed)
            return;
        var now = Now;
        var events = outcomes.Select(o => _state.Record(o, now, _context.Policy)).ToList();
        var running = _inFlight.Except(finished).Any();
        if (!running && events.Aggregate(_state, (state, e) => state.Apply(e)).IsFinished)
        {
            // Done: nothing to remember, the queue row goes now. A crash before it goes means
            // another attempt, as with any MTA; local delivery then finds its earlier copy.
            foreach (var e in events)
            {
                _state = _state.Apply(e);
                LogAttempt(e);
            }
            _inFlight.ExceptWith(finished);
            Settle();
            return;
        }
        Remember(events, e =>
        {
            _state = _state.Apply(e);
            LogAttempt(e);
        }, then: () =>
        {
            _inFlight.ExceptWith(finished);
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
        Remember([new NoticeSent(notice.Kind, notice.Recipients, notice.NoticeQueueId, Now)], e =>
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
        if (!_journaled)
        {
            CleanUp();
            return;
        }
        // Should removing the row fail, the next wake finds the message completed rather than redelivering it.
        Remember([new MessageCompleted(Now)], e =>
        {
            _state = _state.Apply(e);
            CleanUp();
        });
    }

    /// <summary>
    /// Body and queue row go first, the journal last: a crash in between leaves a journal nothing
    /// wakes. The actor stops once both are done with.
    /// </summary>
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
        if (_journal is not null)
        {
            _forgetting = true;
            _journal.Tell(JournalForget.Instance);
        }
    }

    /// <summary>The queue row was rescheduled or removed.</summary>
    void OnSettled()
    {
        _rowSettled = true;
        if (!_forgetting)
            Stop();
    }

    void OnForgotten()
    {
        _forgetting = false;
        if (_rowSettled)
            Stop();
    }

    /// <summary>A journal that fails to persist or recover stops; so does the message, and the queue row's lease brings it back.</summary>
    void OnJournalStopped(Terminated terminated)
    {
        if (terminated.ActorRef.Equals(_journal))
            Stop();
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

    /// <summary>The router has not reported on a hand-over in time.</summary>
    sealed record RouterSilent(string AttemptId, string Domain);

    sealed record NoticeQueued(NoticeDue Notice);

    sealed record EnvelopeLoaded(QueueEntry? Entry);

    sealed record Settled;
}
