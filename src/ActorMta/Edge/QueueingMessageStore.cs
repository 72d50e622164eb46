using System.Buffers;
using Akka.Actor;
using Akka.Hosting;
using ActorMta.Config;
using ActorMta.Persistence;
using ActorMta.Protocol;
using ActorMta.Queue;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace ActorMta.Edge;

/// <summary>
/// The end of DATA: the body and the queue row with the envelope are committed together
/// (group-committed with other sessions' messages), and only then does the client hear
/// "250 queued as"; anything less gets 451, so the client keeps its copy and retries. The
/// message's actor is woken afterwards; if that wake is lost, the row's lease brings it.
/// </summary>
public sealed class QueueingMessageStore(
    ActorMtaSettings settings,
    QueueStore store,
    SenderOwnership ownership,
    IRequiredActor<MessageRegion> messages,
    TimeProvider clock,
    ILogger<QueueingMessageStore> logger) : IMessageStore
{
    public async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var queueId = QueueIds.Next(now);
        var sender = transaction.From.Text();
        var recipients = transaction.To.Select(r => r.Text()).ToList();
        var client = context.ClientText();

        // SmtpInputFilter puts a CRLF before the content (so that SmtpServer treats the first line
        // like any other); it is not part of the message.
        if (buffer.Length >= 2 && buffer.Slice(0, 2).ToArray() is [(byte)'\r', (byte)'\n'])
            buffer = buffer.Slice(2);
        // SmtpServer hands over the content without the CRLF that precedes the final dot;
        // that CRLF ends the message's last line (RFC 5321 §4.1.1.4), so it is put back.
        var trailer = buffer.IsEmpty ? 0 : 2;
        if (Refusal(buffer, buffer.Length + trailer) is { } refusal)
        {
            logger.CommandRejected("DATA", client, $"{(int)refusal.ReplyCode} {refusal.Message}", sender, context.Helo());
            return refusal;
        }

        var header = ReceivedHeader.For(context, settings.Hostname, queueId, recipients, now);
        var body = new byte[header.Length + buffer.Length + trailer];
        header.CopyTo(body, 0);
        buffer.CopyTo(body.AsSpan(header.Length));
        "\r\n"u8[..trailer].CopyTo(body.AsSpan(body.Length - trailer));

        if (context.User() is { } user
            && ownership.ForeignFromAddress(user, new MemoryStream(body, header.Length, body.Length - header.Length, writable: false)) is { } foreign)
        {
            var text = $"5.7.1 <{SessionFacts.Printable(foreign)}>: From address rejected: not owned by user {SessionFacts.Printable(user)}";
            logger.CommandRejected("DATA", client, $"553 {text}", sender, context.Helo());
            return new SmtpResponse(SmtpReplyCode.MailboxNameNotAllowed, text);
        }

        var accepted = MessageState.Accept(new MailEnvelope(queueId, sender, recipients, client, now, body.Length), settings.Recipients);
        // The row is not due until the lease ends: the scheduler leaves it to the wake below.
        var write = store.StoreAsync(accepted, body, now + settings.Queue.ClaimLease);
        try
        {
            await write.WaitAsync(settings.Smtp.AcceptTimeout, cancellationToken);
        }
        catch (Exception e)
        {
            // Whatever went wrong, the client keeps its copy and tries again: never a 5xx, never a 250.
            // A write that commits after all is removed, or the retry would make a duplicate.
            logger.AcceptFailed(queueId, client, e.GetBaseException().Message);
            _ = write.ContinueWith(t => t.IsCompletedSuccessfully ? store.RemoveAsync(queueId) : Task.CompletedTask, TaskScheduler.Default).Unwrap();
            return new SmtpResponse(SmtpReplyCode.Aborted, "4.3.0 Error: queue file write error, try again later");
        }
        messages.ActorRef.Tell(new WakeMessage(queueId, accepted));

        logger.MessageQueued(queueId, client, context.Helo(), sender, body.Length, recipients.Count);
        return new SmtpResponse(SmtpReplyCode.Ok, $"2.0.0 Ok: queued as {queueId}");
    }

    /// <summary>The reply for a message that breaks the size or line rules, or null.</summary>
    SmtpResponse? Refusal(ReadOnlySequence<byte> content, long size)
    {
        // Longer messages were cut short by the filter; the size says so either way (RFC 1870 §6.3).
        if (size > settings.Smtp.MaxMessageSize)
            return new SmtpResponse(SmtpReplyCode.SizeLimitExceeded, "5.3.4 Error: message file too big");
        return MessageContent.Check(content) switch
        {
            MessageContent.Problem.BareLineEnd => new SmtpResponse(SmtpReplyCode.TransactionFailed,
                "5.6.0 Error: bare CR or LF in message content; lines must end with CRLF (RFC 5321 §2.3.8)"),
            MessageContent.Problem.LongLine => new SmtpResponse(SmtpReplyCode.TransactionFailed,
                "5.6.0 Error: message line longer than 998 characters (RFC 5322 §2.1.1)"),
            _ => null,
        };
    }
}
