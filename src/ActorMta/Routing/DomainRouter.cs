using Akka.Actor;
using Akka.Cluster.Sharding;
using ActorMta.Config;
using ActorMta.Delivery;
using ActorMta.Persistence;
using ActorMta.Protocol;
using ActorMta.Queue;
using Microsoft.Extensions.Logging;

namespace ActorMta.Routing;

/// <summary>Marker for the shard region of destination routers in the actor registry.</summary>
public sealed class RouteRegion;

/// <summary>Routes every <see cref="IRouteCommand"/> to the router named by its destination key.</summary>
public sealed class RouteShardExtractor() : HashCodeMessageExtractor(100)
{
    public override string? EntityId(object message) => (message as IRouteCommand)?.Destination;
}

/// <summary>What every router needs; one instance shared by all of them.</summary>
public sealed record DomainRouterContext(RoutingSettings Routing, SmtpOutbound Outbound, QueueStore Store, TimeProvider Clock, ILogger Logger);

/// <summary>
/// The one router of a destination in the whole cluster (a sharded entity), so its limits are
/// cluster-wide. Message actors hand it recipients; it queues them as transactions, runs up
/// to the allowed number of SMTP sessions, sends many transactions over each session, paces
/// them by the rate limits, and reports each recipient's outcome to its message through the
/// message shard region. It keeps no durable state: a message re-hands what was not reported.
/// </summary>
public sealed class DomainRouter : ReceiveActor, IWithTimers
{
    /// <summary>A router with nothing queued, open or suspended stops after this long.</summary>
    static readonly TimeSpan IdleLifetime = TimeSpan.FromMinutes(1);

    readonly string _destination;
    readonly DomainRouterContext _context;
    readonly RouteThrottle _throttle;
    readonly IActorRef _messages;
    readonly LinkedList<Transaction> _queue = new();
    readonly Dictionary<string, List<Transaction>> _byQueueId = new(StringComparer.Ordinal);
    readonly Dictionary<int, Connection> _connections = [];
    readonly CancellationTokenSource _stopping = new();
    int _nextConnectionId;
    long _sessionsOpened;
    long _transactionsSent;

    public DomainRouter(string destination, DomainRouterContext context, IActorRef messages)
    {
        _destination = destination;
        _context = context;
        _messages = messages;
        _throttle = new RouteThrottle(context.Routing.For(destination), Now);

        Receive<DeliverVia>(OnDeliverVia);
        Receive<GetRouteState>(_ => Sender.Tell(State()));
        Receive<SuspendRoute>(OnSuspend);
        Receive<ResumeRoute>(_ =>
        {
            _throttle.Resume();
            _context.Logger.RouteResumed(_destination);
            Sender.Tell(State());
            Dispatch();
        });
        Receive<Connected>(OnConnected);
        Receive<Sent>(OnSent);
        Receive<Closed>(closed =>
        {
            _connections.Remove(closed.ConnectionId);
            _throttle.Closed();
            Dispatch();
        });
        Receive<IdleExpired>(expired =>
        {
            if (_connections.TryGetValue(expired.ConnectionId, out var connection) && connection.IsIdle && connection.Sent == expired.Sent)
                Close(connection);
        });
        Receive<Wake>(_ => Dispatch());
        Receive<PassivateIfIdle>(_ =>
        {
            if (IsIdle)
                Context.Parent.Tell(new Passivate(PoisonPill.Instance));
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string destination, DomainRouterContext context, IActorRef messages) =>
        Akka.Actor.Props.Create(() => new DomainRouter(destination, context, messages));

    DateTimeOffset Now => _context.Clock.GetUtcNow();
    RouteLimits Limits => _throttle.Limits;

    bool IsIdle => _queue.Count == 0 && _connections.Count == 0 && !_throttle.IsSuspended(Now) && !_throttle.IsPaused(Now);

    protected override void PreStart() => Timers.StartSingleTimer(nameof(PassivateIfIdle), PassivateIfIdle.Instance, IdleLifetime);

    /// <summary>Stopped or moved: what has not started is deferred now; what is under way reports by itself.</summary>
    protected override void PostStop()
    {
        _stopping.Cancel();
        FailQueued(new AttemptReport("4.4.0", $"the router of {_destination} stopped before sending; will retry", Relay: "none"));
        foreach (var connection in _connections.Values.Where(c => c.IsIdle))
            _ = connection.Session!.DisposeAsync().AsTask();
    }

    void OnDeliverVia(DeliverVia request)
    {
        var recipients = request.Recipients;
        if (_byQueueId.TryGetValue(request.QueueId, out var known))
        {
            // A message re-hands what it has no report for (it timed out, or restarted):
            // the transaction already queued or under way answers the new hand-over instead
            // of sending the same recipients twice.
            foreach (var transaction in known.Where(t => t.Recipients.Any(r => recipients.Any(n => n.Index == r.Index))).ToList())
            {
                transaction.AttemptId = request.AttemptId;
                transaction.StartBy = request.StartBy;
                recipients = [.. recipients.Where(n => !transaction.Recipients.Any(r => r.Index == n.Index))];
            }
        }
        if (recipients.Count == 0)
            return;
        foreach (var chunk in recipients.Chunk(Limits.MaxRecipientsPerTransaction))
        {
            var transaction = new Transaction(request, chunk);
            _queue.AddLast(transaction);
            if (!_byQueueId.TryGetValue(request.QueueId, out var list))
                _byQueueId[request.QueueId] = list = [];
            list.Add(transaction);
        }
        Dispatch();
    }

    void OnSuspend(SuspendRoute suspend)
    {
        _throttle.Suspend(Now, suspend.For, suspend.Reason);
        _context.Logger.RouteSuspended(_destination, Now + suspend.For, suspend.Reason);
        Dispatch();
        Sender.Tell(State());
    }

    /// <summary>
    /// Starts whatever may start now: queued transactions on idle sessions first (connection
    /// reuse), then on new sessions while the concurrency allows; then sets a timer for the
    /// moment something changes (a token, the end of a pause, a transaction's deadline).
    /// A suspended destination, or a paused one without a session (it looks down, as Postfix
    /// calls a dead destination), defers its mail at once instead of each message waiting.
    /// </summary>
    void Dispatch()
    {
        var now = Now;
        if (_throttle.IsSuspended(now))
            FailQueued(new AttemptReport("4.4.1", $"destination {_destination} suspended until {_throttle.SuspendedUntil:u}: {_throttle.LastError}", Relay: "none"));
        else if (_throttle.IsPaused(now) && _throttle.Active == 0)
            FailQueued(new AttemptReport("4.4.1", $"destination {_destination} paused after a failure until {_throttle.PausedUntil:u}: {_throttle.LastError}", Relay: "none"));
        ExpireQueued(now);
        foreach (var connection in _connections.Values.Where(c => c.IsIdle).ToList())
        {
            if (_queue.Count == 0 || !_throttle.HasToken(now))
                break;
            if (Take(t => _context.Outbound.CanShare(t.Domain, connection.Domain)) is { } transaction)
            {
                _throttle.TakeToken(now);
                Send(connection, transaction);
            }
        }
        while (_queue.Count > 0 && _throttle.MayOpen(now) && _throttle.HasToken(now))
        {
            _throttle.TakeToken(now);
            Open(Take(_ => true)!);
        }
        ScheduleWake(now);
    }

    Transaction? Take(Func<Transaction, bool> fits)
    {
        for (var node = _queue.First; node is not null; node = node.Next)
        {
            if (fits(node.Value))
            {
                _queue.Remove(node);
                return node.Value;
            }
        }
        return null;
    }

    void ScheduleWake(DateTimeOffset now)
    {
        if (_queue.Count == 0)
        {
            Timers.Cancel(nameof(Wake));
            // A suspension or pause is state worth keeping: the router lives at least until it ends.
            var until = new[] { _throttle.SuspendedUntil, _throttle.PausedUntil }.Max() is { } end && end > now ? end - now : TimeSpan.Zero;
            Timers.StartSingleTimer(nameof(PassivateIfIdle), PassivateIfIdle.Instance, until + IdleLifetime);
            return;
        }
        var next = _queue.First!.Value.StartBy;
        if (!_throttle.HasToken(now))
            next = Min(next, _throttle.NextTokenAt(now));
        if (_throttle.PausedUntil is { } paused && paused > now)
            next = Min(next, paused);
        Timers.StartSingleTimer(nameof(Wake), Wake.Instance, Max(next - now, TimeSpan.FromMilliseconds(1)));
    }

    void Open(Transaction transaction)
    {
        var connection = new Connection(++_nextConnectionId, transaction.Domain) { Current = transaction };
        _connections[connection.Id] = connection;
        _throttle.Opened();
        var id = connection.Id;
        _context.Outbound.ConnectAsync(transaction.Domain, Limits.ConnectTimeout, Limits.CommandTimeout, _stopping.Token)
            .PipeTo(Self, success: result => new Connected(id, result), failure: e => new Connected(id,
                new OutboundConnection.Failed(new AttemptReport("4.4.1", $"connect failed: {e.GetBaseException().Message}", Relay: "none"), Permanent: false, Unreachable: true)));
    }

    void OnConnected(Connected connected)
    {
        var connection = _connections[connected.ConnectionId];
        var transaction = connection.Current!;
        if (connected.Result is OutboundConnection.Failed failed)
        {
            _connections.Remove(connection.Id);
            _throttle.Closed();
            Report(transaction, failed.Report, failed.Permanent);
            if (failed.Unreachable)
                Failed(failed.Report.Text);
        }
        else
        {
            _sessionsOpened++;
            _throttle.Connected();
            connection.Session = ((OutboundConnection.Open)connected.Result).Session;
            if (!_throttle.IsSuspended(Now))
            {
                Send(connection, transaction);
                return;
            }
            // Suspended while connecting: the transaction goes back to the queue, which Dispatch defers.
            connection.Current = null;
            _queue.AddFirst(transaction);
            Close(connection);
        }
        Dispatch();
    }

    /// <summary>
    /// The task reports the outcomes to the message itself, so that a transaction under way
    /// when the router stops still reaches its message; the router only keeps count.
    /// </summary>
    void Send(Connection connection, Transaction transaction)
    {
        Timers.Cancel(IdleTimerKey(connection.Id));
        connection.Current = transaction;
        var session = connection.Session!;
        var store = _context.Store;
        var messages = _messages;
        var stopping = _stopping.Token;
        var id = connection.Id;
        Task.Run(async () =>
        {
            TransactionResult result;
            try
            {
                var body = await store.ReadBodyAsync(transaction.QueueId).ConfigureAwait(false);
                result = body is null
                    ? new TransactionResult(Outcomes(transaction, new AttemptReport("4.3.0", "message body missing from the queue store"), permanent: false), Throttled: false)
                    : await session.SendAsync(transaction.Sender, transaction.Recipients, body, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                result = new TransactionResult(Outcomes(transaction, new AttemptReport("4.4.2", $"delivery via {session.Relay} failed: {e.GetBaseException().Message}", Relay: session.Relay), permanent: false), Throttled: true);
            }
            messages.Tell(new RouteAttemptFinished(transaction.QueueId, transaction.AttemptId, result.Outcomes));
            if (stopping.IsCancellationRequested)
                await session.DisposeAsync().ConfigureAwait(false);
            return new Sent(id, transaction, result);
        }).PipeTo(Self);
    }

    void OnSent(Sent sent)
    {
        var connection = _connections[sent.ConnectionId];
        connection.Current = null;
        connection.Sent++;
        _transactionsSent++;
        Forget(sent.Transaction);
        if (sent.Result.Throttled)
            Failed(sent.Result.Outcomes.Select(o => o.Report.Diagnostic ?? o.Report.Text).First());
        else
            _throttle.Delivered();

        // A session over its message limit, or beyond a concurrency just lowered, makes way.
        if (sent.Result.Throttled || !connection.Session!.IsOpen || connection.Sent >= Limits.MaxMessagesPerConnection || _throttle.Active > _throttle.Concurrency)
        {
            Close(connection);
            Dispatch();
            return;
        }
        Dispatch();
        if (connection.IsIdle)
            Timers.StartSingleTimer(IdleTimerKey(connection.Id), new IdleExpired(connection.Id, connection.Sent), Limits.IdleTimeout);
    }

    void Failed(string error)
    {
        var before = _throttle.Concurrency;
        var suspended = _throttle.Failed(Now, error);
        _context.Logger.RouteThrottled(_destination, before, _throttle.Concurrency, error);
        if (suspended)
            _context.Logger.RouteSuspended(_destination, _throttle.SuspendedUntil!.Value, error);
    }

    void Close(Connection connection)
    {
        Timers.Cancel(IdleTimerKey(connection.Id));
        connection.Closing = true;
        var id = connection.Id;
        connection.Session!.DisposeAsync().AsTask().ContinueWith(_ => new Closed(id), TaskScheduler.Default).PipeTo(Self);
    }

    /// <summary>The queue is in arrival order, which is deadline order: only its head needs looking at.</summary>
    void ExpireQueued(DateTimeOffset now)
    {
        while (_queue.First is { } node && node.Value.StartBy <= now)
        {
            _queue.RemoveFirst();
            Report(node.Value, new AttemptReport("4.4.5", $"not sent in time: {_destination} is busy (connection or rate limit)", Relay: "none"));
        }
    }

    void FailQueued(AttemptReport report)
    {
        while (_queue.First is { } node)
        {
            _queue.RemoveFirst();
            Report(node.Value, report);
        }
    }

    /// <summary>Every recipient of a transaction that did not take place shares one outcome.</summary>
    void Report(Transaction transaction, AttemptReport report, bool permanent = false)
    {
        Forget(transaction);
        _messages.Tell(new RouteAttemptFinished(transaction.QueueId, transaction.AttemptId, Outcomes(transaction, report, permanent)));
    }

    static List<DeliveryOutcome> Outcomes(Transaction transaction, AttemptReport report, bool permanent) =>
        [.. transaction.Recipients.Select(r => permanent
            ? (DeliveryOutcome)new DeliveryOutcome.PermanentFailure(r.Index, report)
            : new DeliveryOutcome.TemporaryFailure(r.Index, report))];

    void Forget(Transaction transaction)
    {
        if (_byQueueId.TryGetValue(transaction.QueueId, out var list) && list.Remove(transaction) && list.Count == 0)
            _byQueueId.Remove(transaction.QueueId);
    }

    RouteState State()
    {
        var now = Now;
        return new RouteState(
            _destination,
            Limits,
            _throttle.Concurrency,
            _throttle.Active,
            _queue.Count,
            _connections.Values.Count(c => c.Current is not null),
            _throttle.ConsecutiveFailures,
            _throttle.IsPaused(now) ? _throttle.PausedUntil : null,
            _throttle.IsSuspended(now) ? _throttle.SuspendedUntil : null,
            _throttle.LastError,
            _sessionsOpened,
            _transactionsSent);
    }

    static string IdleTimerKey(int connectionId) => $"idle-{connectionId}";

    static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Some of one message's recipients, sent in one transaction.</summary>
    sealed class Transaction(DeliverVia request, IReadOnlyList<OutboundRecipient> recipients)
    {
        string _attemptId = request.AttemptId;

        public string QueueId => request.QueueId;
        public string Sender => request.Sender;
        public string Domain => request.Domain;
        public IReadOnlyList<OutboundRecipient> Recipients => recipients;
        public DateTimeOffset StartBy { get; set; } = request.StartBy;

        /// <summary>The latest hand-over's: a re-hand takes over a transaction already under way (read by the sending task).</summary>
        public string AttemptId
        {
            get => Volatile.Read(ref _attemptId);
            set => Volatile.Write(ref _attemptId, value);
        }
    }

    /// <summary>One SMTP session: opening (with the transaction it was opened for), busy, idle or closing.</summary>
    sealed class Connection(int id, string domain)
    {
        public int Id => id;

        /// <summary>The domain it was opened for; another may share it (<see cref="SmtpOutbound.CanShare"/>).</summary>
        public string Domain => domain;
        public OutboundSession? Session { get; set; }
        public Transaction? Current { get; set; }
        public int Sent { get; set; }
        public bool Closing { get; set; }
        public bool IsIdle => Session is not null && Current is null && !Closing;
    }

    sealed record Connected(int ConnectionId, OutboundConnection Result);

    sealed record Sent(int ConnectionId, Transaction Transaction, TransactionResult Result);

    sealed record Closed(int ConnectionId);

    sealed record IdleExpired(int ConnectionId, int Sent);

    sealed class Wake
    {
        public static readonly Wake Instance = new();
    }

    sealed class PassivateIfIdle
    {
        public static readonly PassivateIfIdle Instance = new();
    }
}
