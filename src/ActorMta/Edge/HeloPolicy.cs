using System.Net;
using ActorMta.Config;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Protocol;

namespace ActorMta.Edge;

/// <summary>
/// Checks the name an untrusted client gives in HELO/EHLO on the MX listener: a real mail
/// server names itself with its fully qualified name (RFC 5321 §4.1.1.1) or an address literal
/// in brackets, and never with this server's own name or address.
/// </summary>
public sealed class HeloPolicy(ActorMtaSettings settings, ILogger<HeloPolicy> logger)
{
    /// <param name="argument">The name as the client sent it, brackets included.</param>
    /// <exception cref="SmtpResponseException">The check failed and the mode is <c>refuse</c>.</exception>
    public void Check(ISessionContext context, string argument)
    {
        if (settings.Smtp.HeloChecks == HeloChecks.Off || context.IsTrusted() || context.Listener().Kind != ListenerKind.Mx)
            return;
        if (Problem(context, argument) is not { } refusal)
            return;
        var shown = SessionFacts.Printable(argument);
        if (settings.Smtp.HeloChecks == HeloChecks.Log)
        {
            logger.HeloCheckFailed(context.ClientText(), shown, refusal.Text);
            return;
        }
        var text = $"{refusal.Enhanced} <{shown}>: Helo command rejected: {refusal.Text}";
        logger.CommandRejected("HELO", context.ClientText(), $"{(int)refusal.Code} {text}", "", shown);
        throw new SmtpResponseException(new SmtpResponse(refusal.Code, text));
    }

    (SmtpReplyCode Code, string Enhanced, string Text)? Problem(ISessionContext context, string argument)
    {
        var literal = argument.StartsWith('[') && argument.EndsWith(']');
        var inside = literal ? argument[1..^1] : argument;
        if (inside.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
            inside = inside[5..];
        if (IPAddress.TryParse(inside, out var address))
        {
            if (!literal)
                return (SmtpReplyCode.SyntaxError, "5.5.2", "an address must be in brackets, e.g. [192.0.2.1]");
            var local = context.Local()?.Address;
            if (address.Equals(local) || settings.Smtp.Listeners.Any(l => l.Endpoint.Address.Equals(address)))
                return (SmtpReplyCode.MailboxUnavailable, "5.7.1", "that is my address");
            return null;
        }
        var name = MailAddress.NormalizeDomain(argument);
        if (name == settings.Hostname || settings.Recipients.IsLocalDomain(name))
            return (SmtpReplyCode.MailboxUnavailable, "5.7.1", "that is my name");
        if (!name.Contains('.', StringComparison.Ordinal))
            return (SmtpReplyCode.CommandParameterNotImplemented, "5.5.2", "need fully-qualified hostname");
        return null;
    }
}
