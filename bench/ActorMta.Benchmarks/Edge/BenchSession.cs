using ActorMta.Edge;
using System.IO.Pipelines;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace ActorMta.Benchmarks.Edge;

/// <summary>
/// An SMTP session as the edge sees it at the end of DATA: a plain-text ESMTP client that
/// said EHLO. The code measured reads only the property bag, the pipe's TLS flag and the login.
/// </summary>
sealed class BenchSession : ISessionContext
{
    public BenchSession(IPEndPoint client, string helo)
    {
        Properties[EndpointListener.RemoteEndPointKey] = client;
        // ActorMta's own method records the EHLO, so the property keys stay its business.
        this.RememberGreeting(helo, true);
    }

    public Guid SessionId { get; } = Guid.NewGuid();
    public ISmtpServerOptions ServerOptions => throw new NotSupportedException();
    public IEndpointDefinition EndpointDefinition => throw new NotSupportedException();
    public IServiceProvider ServiceProvider => throw new NotSupportedException();
    public ISecurableDuplexPipe Pipe { get; } = new PlainPipe();
    public AuthenticationContext Authentication { get; } = AuthenticationContext.Unauthenticated;
    public IDictionary<string, object> Properties { get; } = new Dictionary<string, object>();

    public event EventHandler<SmtpCommandEventArgs> CommandExecuting { add { } remove { } }
    public event EventHandler<SmtpCommandEventArgs> CommandExecuted { add { } remove { } }
    public event EventHandler<SmtpResponseExceptionEventArgs> ResponseException { add { } remove { } }
    public event EventHandler<EventArgs> SessionAuthenticated { add { } remove { } }

    /// <summary>A connection that never went through STARTTLS; nothing is read from or written to it.</summary>
    sealed class PlainPipe : ISecurableDuplexPipe
    {
        public PipeReader Input => throw new NotSupportedException();
        public PipeWriter Output => throw new NotSupportedException();
        public bool IsSecure => false;
        public SslProtocols SslProtocol => SslProtocols.None;

        public Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
