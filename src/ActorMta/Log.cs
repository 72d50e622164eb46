using Microsoft.Extensions.Logging;

namespace ActorMta;

/// <summary>
/// Every log event operators may grep for, with a stable id. Delivery lines follow the
/// form Postfix made familiar: queue id, to=, relay=, delay=, dsn=, status=.
/// </summary>
public static partial class Log
{
    [LoggerMessage(1000, LogLevel.Information, "SMTP listener on {Endpoint} ({Listener}), host name {Hostname}")]
    public static partial void Listening(this ILogger logger, string endpoint, string listener, string hostname);

    [LoggerMessage(1001, LogLevel.Information, "{QueueId}: client={Client}, helo={Helo}, from=<{Sender}>, size={Size}, nrcpt={Recipients} (queued)")]
    public static partial void MessageQueued(this ILogger logger, string queueId, string client, string helo, string sender, long size, int recipients);

    [LoggerMessage(1002, LogLevel.Information, "NOQUEUE: reject: RCPT from {Client}: {Reply}; from=<{Sender}> to=<{Recipient}> helo=<{Helo}>")]
    public static partial void RecipientRejected(this ILogger logger, string client, string reply, string sender, string recipient, string helo);

    [LoggerMessage(1003, LogLevel.Warning, "{QueueId}: not queued, client={Client} told 451: {Reason}")]
    public static partial void AcceptFailed(this ILogger logger, string queueId, string client, string reason);

    [LoggerMessage(2000, LogLevel.Information, "{QueueId}: to=<{Recipient}>, orig_to=<{Original}>, relay={Relay}, delay={Delay:0.##}, dsn={Dsn}, status={Status} ({Detail})")]
    public static partial void DeliveryAttempt(this ILogger logger, string queueId, string recipient, string original, string relay, double delay, string dsn, string status, string detail);

    [LoggerMessage(2001, LogLevel.Information, "{QueueId}: removed")]
    public static partial void MessageRemoved(this ILogger logger, string queueId);

    [LoggerMessage(2003, LogLevel.Information, "{QueueId}: on hold (actormta.queue.hold)")]
    public static partial void MessageHeld(this ILogger logger, string queueId);

    [LoggerMessage(2004, LogLevel.Warning, "{QueueId}: queue entry without an accepted message, removed")]
    public static partial void OrphanRemoved(this ILogger logger, string queueId);

    [LoggerMessage(2005, LogLevel.Error, "{QueueId}: message body missing from the queue store; the message cannot be delivered")]
    public static partial void BodyMissing(this ILogger logger, string queueId);

    [LoggerMessage(2006, LogLevel.Error, "{QueueId}: queue store operation failed: {Reason}")]
    public static partial void QueueStoreFailed(this ILogger logger, string queueId, string reason);

    [LoggerMessage(2007, LogLevel.Information, "{QueueId}: sender non-delivery notification: {NoticeQueueId} ({Kind}, to=<{Sender}>, {Recipients} recipient(s))")]
    public static partial void NoticeSent(this ILogger logger, string queueId, string kind, string noticeQueueId, string sender, int recipients);

    [LoggerMessage(2100, LogLevel.Warning, "MX host {Host} is an IP address, not a name (RFC 5321 §5.1 wants a host name); used anyway")]
    public static partial void MxIsAddress(this ILogger logger, string host);

    [LoggerMessage(2101, LogLevel.Warning, "MX host {Host} is an alias (CNAME), which RFC 2181 §10.3 forbids; followed anyway")]
    public static partial void MxIsAlias(this ILogger logger, string host);

    [LoggerMessage(2200, LogLevel.Warning, "route {Destination}: concurrency {Before} -> {After} after: {Error}")]
    public static partial void RouteThrottled(this ILogger logger, string destination, int before, int after, string error);

    [LoggerMessage(2201, LogLevel.Warning, "route {Destination}: suspended until {Until:u}: {Reason}")]
    public static partial void RouteSuspended(this ILogger logger, string destination, DateTimeOffset until, string reason);

    [LoggerMessage(2202, LogLevel.Information, "route {Destination}: resumed")]
    public static partial void RouteResumed(this ILogger logger, string destination);

    [LoggerMessage(3000, LogLevel.Information, "queue scheduler started: {Released} message(s) from before the restart are due now")]
    public static partial void SchedulerStarted(this ILogger logger, int released);

    [LoggerMessage(3001, LogLevel.Error, "queue scheduler poll failed: {Reason}")]
    public static partial void SchedulerPollFailed(this ILogger logger, string reason);

    [LoggerMessage(4000, LogLevel.Warning, "TLS: no certificate configured (actormta.smtp.tls); using a self-signed certificate for {Hostname} generated at start-up, which clients will not trust")]
    public static partial void SelfSignedCertificate(this ILogger logger, string hostname);

    [LoggerMessage(4001, LogLevel.Information, "TLS: certificate {File} loaded: {Subject}, valid until {NotAfter:u}")]
    public static partial void CertificateLoaded(this ILogger logger, string file, string subject, DateTime notAfter);

    [LoggerMessage(4002, LogLevel.Error, "TLS: certificate {File} could not be read again, the previous one stays in use: {Reason}")]
    public static partial void CertificateReloadFailed(this ILogger logger, string file, string reason);

    [LoggerMessage(4003, LogLevel.Information, "NOQUEUE: reject: CONNECT from {Client} ({Listener}): {Reply}")]
    public static partial void ConnectionRefused(this ILogger logger, string listener, string client, string reply);

    [LoggerMessage(4004, LogLevel.Information, "NOQUEUE: reject: {Command} from {Client}: {Reply}; from=<{Sender}> helo=<{Helo}>")]
    public static partial void CommandRejected(this ILogger logger, string command, string client, string reply, string sender, string helo);

    [LoggerMessage(4005, LogLevel.Warning, "{Client}: SASL authentication failed for user {User} ({Listener})")]
    public static partial void AuthFailed(this ILogger logger, string client, string user, string listener);

    [LoggerMessage(4006, LogLevel.Warning, "{Client}: locked out of AUTH until {Until:u} after repeated authentication failures")]
    public static partial void AuthLockout(this ILogger logger, string client, DateTimeOffset until);

    [LoggerMessage(4007, LogLevel.Warning, "{Client}: AUTH as {User} refused: locked out until {Until:u}")]
    public static partial void AuthRefusedLockedOut(this ILogger logger, string client, string user, DateTimeOffset until);

    [LoggerMessage(4008, LogLevel.Information, "{Client}: sasl_username={User} ({Listener})")]
    public static partial void Authenticated(this ILogger logger, string client, string user, string listener);

    [LoggerMessage(4009, LogLevel.Information, "{Client}: HELO check: {Problem}; helo=<{Helo}>")]
    public static partial void HeloCheckFailed(this ILogger logger, string client, string helo, string problem);

    [LoggerMessage(4010, LogLevel.Warning, "DNSBL {Zone}: lookup for {Client} failed, counted as not listed: {Reason}")]
    public static partial void DnsblLookupFailed(this ILogger logger, string zone, string client, string reason);

    [LoggerMessage(4011, LogLevel.Error, "users file {File} cannot be read; AUTH answers 454: {Reason}")]
    public static partial void UsersFileUnreadable(this ILogger logger, string file, string reason);

    [LoggerMessage(4012, LogLevel.Information, "{Client}: disconnected ({Listener}): {Reason}")]
    public static partial void Disconnected(this ILogger logger, string client, string listener, string reason);
}
