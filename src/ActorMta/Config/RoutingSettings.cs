namespace ActorMta.Config;

/// <summary>What one destination router serves: a recipient domain, or the set of MX hosts several domains share.</summary>
public enum RouteBy
{
    Domain,
    MxSite,
}

/// <summary>How outbound SMTP is shaped per destination (<c>actormta.routing</c>).</summary>
public sealed record RoutingSettings
{
    public RouteBy RouteBy { get; init; } = RouteBy.Domain;

    /// <summary>Longest a delivery may wait in a router's queue before it is deferred instead.</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public required RouteLimits Default { get; init; }

    /// <summary>Overrides by destination key (see <see cref="Routing.DestinationKeys.Normalize"/>).</summary>
    public IReadOnlyDictionary<string, RouteLimits> Destinations { get; init; } = new Dictionary<string, RouteLimits>();

    public RouteLimits For(string destination) =>
        Destinations.TryGetValue(destination, out var limits) ? limits : Default;

    /// <summary>
    /// How long a message waits for its router's report before it counts the attempt as a
    /// temporary failure: the queue allowance, a connection and a transaction in the slowest
    /// configured destination. A router that died or moved costs one retry, never a lost message.
    /// </summary>
    public TimeSpan ReplyTimeout =>
        QueueTimeout + Destinations.Values.Append(Default).Max(l => l.ConnectTimeout + 2 * l.CommandTimeout);
}

/// <param name="MaxConnections">Concurrent SMTP sessions to the destination, cluster-wide.</param>
/// <param name="InitialConnections">Where the adaptive concurrency starts (at most <paramref name="MaxConnections"/>).</param>
/// <param name="MaxMessagesPerConnection">Transactions over one session before it is closed and a new one opened.</param>
/// <param name="MaxRecipientsPerTransaction">A message with more recipients at this destination is sent in several transactions.</param>
/// <param name="MaxMessagesPerMinute">Token bucket; 0 is unlimited.</param>
/// <param name="MaxMessagesPerHour">Token bucket; 0 is unlimited.</param>
/// <param name="IdleTimeout">How long an idle session stays open for the next message.</param>
/// <param name="FailurePause">No new session for this long after a 421 or a failed connection.</param>
/// <param name="SuspendAfterFailures">Consecutive connection failures that suspend the destination; 0 never suspends.</param>
/// <param name="SuspendFor">How long a suspended destination defers everything without trying.</param>
public sealed record RouteLimits(
    int MaxConnections,
    int InitialConnections,
    int MaxMessagesPerConnection,
    int MaxRecipientsPerTransaction,
    int MaxMessagesPerMinute,
    int MaxMessagesPerHour,
    TimeSpan ConnectTimeout,
    TimeSpan CommandTimeout,
    TimeSpan IdleTimeout,
    TimeSpan FailurePause,
    int SuspendAfterFailures,
    TimeSpan SuspendFor);
