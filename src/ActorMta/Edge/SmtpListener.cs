using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace ActorMta.Edge;

/// <summary>
/// Accepts connections for SmtpServer, with <see cref="SmtpInputFilter"/> between the socket
/// (or the TLS stream) and the protocol engine, so that the edge sees the command stream
/// before the library's parser does.
/// </summary>
sealed class SmtpListenerFactory(string postmasterDomain) : IEndpointListenerFactory
{
    public event EventHandler<IPEndPoint>? Started;

    public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
    {
        var listener = new TcpListener(endpointDefinition.Endpoint);
        listener.Start();
        Started?.Invoke(this, (IPEndPoint)listener.LocalEndpoint);
        return new SmtpListener(listener, postmasterDomain);
    }
}

sealed class SmtpListener(TcpListener listener, string postmasterDomain) : IEndpointListener
{
    public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
    {
        var client = await listener.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
        client.NoDelay = true;
        context.Properties.Add(EndpointListener.LocalEndPointKey, listener.LocalEndpoint);
        context.Properties.Add(EndpointListener.RemoteEndPointKey, client.Client.RemoteEndPoint!);
        return new FilteredDuplexPipe(client, postmasterDomain);
    }

    public void Dispose() => listener.Stop();
}

/// <summary>The session's byte pipes; after STARTTLS they run over TLS, with a fresh filter above it.</summary>
sealed class FilteredDuplexPipe : ISecurableDuplexPipe
{
    readonly TcpClient _client;
    readonly string _postmasterDomain;
    Stream _transport;

    public FilteredDuplexPipe(TcpClient client, string postmasterDomain)
    {
        _client = client;
        _postmasterDomain = postmasterDomain;
        _transport = client.GetStream();
        (Input, Output) = Pipes(_transport);
    }

    public PipeReader Input { get; private set; }
    public PipeWriter Output { get; private set; }
    public bool IsSecure { get; private set; }
    public SslProtocols SslProtocol { get; private set; }

    /// <summary>
    /// New pipes over TLS: anything the client pipelined in plain text after STARTTLS stays in
    /// the old pipe and is dropped, as RFC 3207 §4.2 requires (no command injection).
    /// </summary>
    public async Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default)
    {
        var tls = new SslStream(_transport, leaveInnerStreamOpen: true);
        await tls.AuthenticateAsServerAsync(
            new SslServerAuthenticationOptions { ServerCertificate = certificate, EnabledSslProtocols = protocols, ClientCertificateRequired = false },
            cancellationToken).ConfigureAwait(false);
        _transport = tls;
        (Input, Output) = Pipes(tls);
        IsSecure = true;
        SslProtocol = tls.SslProtocol;
    }

    (PipeReader, PipeWriter) Pipes(Stream transport)
    {
        var filtered = new SmtpInputFilter(transport, _postmasterDomain);
        return (PipeReader.Create(filtered, new StreamPipeReaderOptions(leaveOpen: true)), PipeWriter.Create(filtered, new StreamPipeWriterOptions(leaveOpen: true)));
    }

    public void Dispose()
    {
        _transport.Dispose();
        _client.Dispose();
    }
}
