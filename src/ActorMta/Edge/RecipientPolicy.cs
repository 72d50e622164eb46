using ActorMta.Config;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace ActorMta.Edge;

/// <summary>
/// Decides at MAIL and RCPT, before any data is taken: a message the server cannot deliver
/// is refused in the session, never accepted and bounced later (no backscatter).
/// </summary>
public sealed class RecipientPolicy(ActorMtaSettings settings, SenderOwnership ownership, ILogger<RecipientPolicy> logger) : IMailboxFilter
{
    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        // SmtpServer itself refuses a declared SIZE over the limit (552) before asking here.
        context.SetRecipientCount(0);
        if (context.Listener().IsSubmission && context.User() is null)
        {
            throw RejectSender(context, from, SmtpReplyCode.AuthenticationRequired,
                context.Pipe.IsSecure ? "5.7.0 Error: authentication required" : "5.7.0 Error: must issue a STARTTLS command first");
        }
        if (context.CountTransaction() > settings.Smtp.MaxMessagesPerConnection)
        {
            throw RejectSender(context, from, SmtpReplyCode.ServiceUnavailable,
                $"4.7.0 {settings.Hostname} Error: too many messages in one connection, send the rest in a new one", quit: true);
        }
        if (context.User() is { } user && !ownership.Owns(user, from.Text()))
        {
            throw RejectSender(context, from, SmtpReplyCode.MailboxNameNotAllowed,
                $"5.7.1 <{from.Text()}>: Sender address rejected: not owned by user {SessionFacts.Printable(user)}");
        }
        return Task.FromResult(true);
    }

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        var address = to.Text();
        if (context.RecipientCount() >= settings.Smtp.MaxRecipients)
            throw Reject(context, from, address, SmtpReplyCode.InsufficientStorage, "4.5.3 Error: too many recipients");

        switch (settings.Recipients.Lookup(to.User, to.Host))
        {
            case RecipientLookup.Local:
                context.SetRecipientCount(context.RecipientCount() + 1);
                return Task.FromResult(true);
            case RecipientLookup.UnknownUser:
                // A permanent 550, never 451: the sender must learn now that this address does not exist.
                throw Reject(context, from, address, SmtpReplyCode.MailboxUnavailable,
                    $"5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table");
            case RecipientLookup.Foreign when RelayPermission.Allows(context) && MailAddress.IsValidDomain(MailAddress.NormalizeDomain(to.Host)):
                context.SetRecipientCount(context.RecipientCount() + 1);
                return Task.FromResult(true);
            default:
                throw Reject(context, from, address, SmtpReplyCode.MailboxUnavailable, $"5.7.1 <{address}>: Relay access denied");
        }
    }

    SmtpResponseException Reject(ISessionContext context, IMailbox from, string recipient, SmtpReplyCode code, string text)
    {
        logger.RecipientRejected(context.ClientText(), $"{(int)code} {text}", from.Text(), recipient, context.Helo());
        return new SmtpResponseException(new SmtpResponse(code, text));
    }

    SmtpResponseException RejectSender(ISessionContext context, IMailbox from, SmtpReplyCode code, string text, bool quit = false)
    {
        logger.CommandRejected("MAIL", context.ClientText(), $"{(int)code} {text}", from.Text(), context.Helo());
        return new SmtpResponseException(new SmtpResponse(code, text), quit);
    }
}
