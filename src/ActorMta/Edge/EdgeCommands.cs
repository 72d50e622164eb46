using SmtpServer;
using SmtpServer.Protocol;

namespace ActorMta.Edge;

/// <summary>
/// SmtpServer's commands as ActorMta answers them, and the checks that run before each one:
/// EHLO names only this host and never offers AUTH on the MX listener, where AUTH is refused;
/// HELO/EHLO go through <see cref="HeloPolicy"/>.
/// </summary>
sealed class EdgeCommands(HeloPolicy helo) : SmtpCommandFactory
{
    public override SmtpCommand CreateEhlo(string domainOrAddress) => new Ehlo(domainOrAddress);

    public override SmtpCommand CreateHelo(string domainOrAddress) => new Helo(domainOrAddress);

    /// <summary>Runs before SmtpServer executes a command; a thrown reply takes the command's place.</summary>
    public void BeforeExecuting(ISessionContext context, SmtpCommand command)
    {
        switch (command)
        {
            case EhloCommand ehlo:
                helo.Check(context, context.Connection().HeloArgument);
                context.RememberGreeting(ehlo.DomainOrAddress, extended: true);
                break;
            case HeloCommand hello:
                helo.Check(context, context.Connection().HeloArgument);
                context.RememberGreeting(hello.DomainOrAddress, extended: false);
                break;
            case AuthCommand when !context.Listener().IsSubmission:
                // STARTTLS on port 25 must not turn the MX into a submission service.
                throw new SmtpResponseException(new SmtpResponse(SmtpReplyCode.BadSequence, "5.5.1 Error: authentication not enabled"));
        }
    }

    sealed class Ehlo(string domainOrAddress) : EhloCommand(domainOrAddress)
    {
        protected override string GetGreeting(ISessionContext context) => context.ServerOptions.ServerName;

        protected override IEnumerable<string> GetExtensions(ISessionContext context) =>
            base.GetExtensions(context).Where(e => context.Listener().IsSubmission || !e.StartsWith("AUTH", StringComparison.Ordinal));
    }

    sealed class Helo(string domainOrAddress) : HeloCommand(domainOrAddress)
    {
        protected override string GetGreeting(ISessionContext context) => context.ServerOptions.ServerName;
    }
}
