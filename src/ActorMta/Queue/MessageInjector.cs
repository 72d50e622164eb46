using Akka.Actor;
using ActorMta.Config;
using ActorMta.Persistence;
using ActorMta.Protocol;
using Microsoft.Data.Sqlite;

namespace ActorMta.Queue;

/// <summary>
/// Queues mail the server writes itself (delivery status notifications) by the same path as
/// mail from clients: body and queue row in one commit, then a wake for its actor. Queue ids
/// of such mail are derived from their cause, so injecting twice after a crash finds the
/// first copy.
/// </summary>
public sealed class MessageInjector(QueueStore store, ActorMtaSettings settings)
{
    const int SqliteConstraint = 19;

    public async Task InjectAsync(IActorRef messages, string queueId, string sender, IReadOnlyList<string> recipients, byte[] body, DateTimeOffset now)
    {
        var accepted = MessageState.Accept(new MailEnvelope(queueId, sender, recipients, $"local ({settings.Hostname})", now, body.Length), settings.Recipients);
        try
        {
            await store.StoreAsync(accepted, body, now + settings.Queue.ClaimLease).ConfigureAwait(false);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
        {
            // Stored by an earlier attempt that did not live to record it, and perhaps delivered since.
            messages.Tell(new WakeMessage(queueId));
            return;
        }
        messages.Tell(new WakeMessage(queueId, accepted));
    }
}
