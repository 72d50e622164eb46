using ActorMta.Config;
using ActorMta.Users;
using Microsoft.Extensions.Logging;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Protocol;

namespace ActorMta.Edge;

/// <summary>
/// AUTH PLAIN and LOGIN against the users file. SmtpServer offers AUTH only on an encrypted
/// connection; <see cref="EdgeCommands"/> keeps it off the MX listener altogether. Failures
/// are answered late, counted per client address, and lock the address out.
/// </summary>
public sealed class SmtpAuthenticator(UserStore users, AuthThrottle throttle, TimeProvider clock, ILogger<SmtpAuthenticator> logger) : IUserAuthenticator
{
    public async Task<bool> AuthenticateAsync(ISessionContext context, string user, string password, CancellationToken cancellationToken)
    {
        var client = context.Client();
        if (!context.Listener().IsSubmission || !context.Pipe.IsSecure || client is null)
            return false;
        if (throttle.LockedUntil(client.Address) is { } until)
        {
            logger.AuthRefusedLockedOut(context.ClientText(), SessionFacts.Printable(user), until);
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.ClientNotPermitted, "4.7.0 Error: too many authentication failures, try again later"));
        }

        User? record;
        try
        {
            record = users.Find(user);
        }
        catch (InvalidDataException e)
        {
            logger.UsersFileUnreadable(users.Path, e.Message);
            throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.ClientNotPermitted, "4.7.0 Error: temporary authentication failure"));
        }
        if (PasswordHash.Verify(password, record?.PasswordHash))
        {
            logger.Authenticated(context.ClientText(), record!.Name, context.Listener().Name);
            return true;
        }

        var lockedUntil = throttle.RecordFailure(client.Address);
        logger.AuthFailed(context.ClientText(), SessionFacts.Printable(user), context.Listener().Name);
        if (lockedUntil is { } end)
            logger.AuthLockout(context.ClientText(), end);
        // A guesser waits for every wrong answer (RFC 4954 §4 leaves the pace to the server).
        await Task.Delay(throttle.FailureDelay, clock, cancellationToken).ConfigureAwait(false);
        throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.AuthenticationFailed, "5.7.8 Error: authentication failed"));
    }
}
