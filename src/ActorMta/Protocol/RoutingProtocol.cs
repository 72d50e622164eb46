using ActorMta.Config;
using ActorMta.Delivery;
using ActorMta.Queue;

namespace ActorMta.Protocol;

/// <summary>A command or query for one destination's router; the destination key is the shard entity id.</summary>
public interface IRouteCommand : IProtocolMessage
{
    string Destination { get; }
}

/// <summary>
/// From a message actor: send the message to these recipients at this destination. The
/// router reads the body from the queue store and reports each recipient's outcome with
/// <see cref="RouteAttemptFinished"/> (possibly in several parts, one per transaction).
/// </summary>
/// <param name="AttemptId">Names this hand-over; the report carries it back.</param>
/// <param name="Domain">The recipients' domain: a router keyed by MX site serves several.</param>
/// <param name="StartBy">No transaction starts after this: by then the message has stopped waiting and will hand the recipients over again.</param>
public sealed record DeliverVia(
    string Destination,
    string QueueId,
    string AttemptId,
    string Sender,
    string Domain,
    IReadOnlyList<OutboundRecipient> Recipients,
    DateTimeOffset StartBy) : IRouteCommand;

/// <summary>
/// From a router to the message, through the message shard region (the actor that handed
/// the recipients over may have stopped or moved since): these recipients' outcomes.
/// </summary>
public sealed record RouteAttemptFinished(string QueueId, string AttemptId, IReadOnlyList<DeliveryOutcome> Outcomes) : IMessageCommand;

/// <summary>Asks a router for its <see cref="RouteState"/>.</summary>
public sealed record GetRouteState(string Destination) : IRouteCommand;

/// <summary>An operator stops deliveries to a destination: its mail is deferred without trying. Replies with the <see cref="RouteState"/>.</summary>
public sealed record SuspendRoute(string Destination, TimeSpan For, string Reason) : IRouteCommand;

/// <summary>Ends a suspension (an operator's or an automatic one) and the pause after failures. Replies with the <see cref="RouteState"/>.</summary>
public sealed record ResumeRoute(string Destination) : IRouteCommand;

/// <summary>A router's throttle as operators see it.</summary>
/// <param name="Concurrency">Sessions allowed now: between 1 and the limit, moved by the concurrency feedback.</param>
/// <param name="ActiveConnections">Sessions open or opening, busy or idle.</param>
/// <param name="Queued">Transactions waiting for a session or a token.</param>
/// <param name="Sending">Transactions under way.</param>
/// <param name="SessionsOpened">Since the router started (connection reuse shows as far fewer sessions than transactions).</param>
/// <param name="TransactionsSent">Since the router started, whatever their outcome.</param>
public sealed record RouteState(
    string Destination,
    RouteLimits Limits,
    int Concurrency,
    int ActiveConnections,
    int Queued,
    int Sending,
    int ConsecutiveFailures,
    DateTimeOffset? PausedUntil,
    DateTimeOffset? SuspendedUntil,
    string? LastError,
    long SessionsOpened,
    long TransactionsSent) : IProtocolMessage;
