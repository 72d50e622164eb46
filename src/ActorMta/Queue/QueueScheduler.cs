using Akka.Actor;
using ActorMta.Config;
using ActorMta.Persistence;
using ActorMta.Protocol;
using Microsoft.Extensions.Logging;

namespace ActorMta.Queue;

/// <summary>
/// Wakes messages whose time has come: on start, every message the previous run left
/// unfinished; then, each poll, those whose retry is due or whose lease ran out. A deferred
/// message lives only as a queue row until then, so a large queue costs no memory.
/// </summary>
public sealed class QueueScheduler : ReceiveActor, IWithTimers
{
    const int BatchSize = 500;
    readonly QueueStore _store;
    readonly IActorRef _messages;
    readonly QueueSettings _settings;
    readonly TimeProvider _clock;
    readonly ILogger _logger;
    bool _polling;

    public QueueScheduler(QueueStore store, IActorRef messages, QueueSettings settings, TimeProvider clock, ILogger logger)
    {
        _store = store;
        _messages = messages;
        _settings = settings;
        _clock = clock;
        _logger = logger;

        Receive<Released>(released =>
        {
            _logger.SchedulerStarted(released.Count);
            Timers.StartPeriodicTimer("poll", Poll.Instance, _settings.PollInterval);
            Self.Tell(Poll.Instance);
        });
        Receive<Poll>(_ => StartPoll());
        Receive<Claimed>(OnClaimed);
        Receive<Status.Failure>(failure =>
        {
            _polling = false;
            _logger.SchedulerPollFailed(failure.Cause.GetBaseException().Message);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(QueueStore store, IActorRef messages, QueueSettings settings, TimeProvider clock, ILogger logger) =>
        Akka.Actor.Props.Create(() => new QueueScheduler(store, messages, settings, clock, logger));

    protected override void PreStart() =>
        _store.ReleaseLeasesAsync().PipeTo(Self, success: count => new Released(count));

    void StartPoll()
    {
        if (_polling)
            return;
        _polling = true;
        var now = _clock.GetUtcNow();
        _store.ClaimDueAsync(now, now + _settings.ClaimLease, BatchSize).PipeTo(Self, success: ids => new Claimed(ids));
    }

    void OnClaimed(Claimed claimed)
    {
        _polling = false;
        foreach (var id in claimed.QueueIds)
            _messages.Tell(new WakeMessage(id));
        // A full batch means more are due: keep going rather than wait a whole interval.
        if (claimed.QueueIds.Count == BatchSize)
            Self.Tell(Poll.Instance);
    }

    sealed record Released(int Count);

    sealed record Claimed(IReadOnlyList<string> QueueIds);

    sealed class Poll
    {
        public static readonly Poll Instance = new();
    }
}
