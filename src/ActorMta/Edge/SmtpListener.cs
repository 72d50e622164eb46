using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using ActorMta.Config;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace ActorMta.Edge;

/// <summary>
/// Accepts connections for SmtpServer, with <see cref="SmtpInputFilter"/> between the socket
/// (or the TLS stream) and the protocol engine, so that the edge sees the command stream
/// before the library's parser does. Each connection passes the <see cref="ConnectionGate"/>.
/// </summary>
sealed class SmtpListenerFactory(
    IReadOnlyDictionary<IEndpointDefinition, EdgeListener> listeners,
    ActorMtaSettings settings,
    ConnectionGate gate,
    ServerCertificate certificate) : IEndpointListenerFactory
{
    public event EventHandler<(EdgeListener Listener, IPEndPoint Endpoint)>? Started;

    public IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
    {
        var listener = listeners[endpointDefinition];
        var socket = new TcpListener(endpointDefinition.Endpoint);
        socket.Start();
        Started?.Invoke(this, (listener, (IPEndPoint)socket.LocalEndpoint));
        return new SmtpListener(socket, listener, settings, gate, certificate);
    }
}

sealed class SmtpListener(TcpListener socket, EdgeListener listener, ActorMtaSettings settings, ConnectionGate gate, ServerCertificate certificate) : IEndpointListener
{
    public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
    {
        var client = await socket.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
        client.NoDelay = true;
        var remote = Unmapped((IPEndPoint)client.Client.RemoteEndPoint!);
        var trusted = settings.Smtp.IsTrusted(remote.Address);
        var connection = gate.Open(remote, listener, trusted);
        context.Properties.Add(EndpointListener.LocalEndPointKey, Unmapped((IPEndPoint)client.Client.LocalEndPoint!));
        context.Properties.Add(EndpointListener.RemoteEndPointKey, remote);
        context.SetConnection(listener, trusted, connection);
        return new FilteredDuplexPipe(client, connection, new WireOptions(settings), certificate);
    }

    /// <summary>A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; policy speaks of a.b.c.d.</summary>
    static IPEndPoint Unmapped(IPEndPoint endpoint) =>
        endpoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endpoint.Address.MapToIPv4(), endpoint.Port) : endpoint;

    public void Dispose() => socket.Stop();
}

/// <summary>
/// The session's byte pipes; after STARTTLS (or at once, for implicit TLS) they run over TLS,
/// with a fresh filter above it.
/// </summary>
sealed class FilteredDuplexPipe : ISecurableDuplexPipe
{
    readonly TcpClient _client;
    readonly ConnectionState _connection;
    readonly WireOptions _options;
    readonly ServerCertificate _certificate;
    Stream _transport;

    public FilteredDuplexPipe(TcpClient client, ConnectionState connection, WireOptions options, ServerCertificate certificate)
    {
        _client = client;
        _connection = connection;
        _options = options;
        _certificate = certificate;
        _transport = client.GetStream();
        (Input, Output) = Pipes(_transport);
    }

    public PipeReader Input { get; private set; }
    public PipeWriter Output { get; private set; }
    public bool IsSecure { get; private set; }
    public SslProtocols SslProtocol { get; private set; }

    /// <summary>
    /// New pipes over TLS: anything the client pipelined in plain text after STARTTLS stays in
    /// the old pipe and is dropped, as RFC 3207 §4.2 requires (no command injection). The
    /// certificate SmtpServer passes is the one <see cref="ServerCertificate"/> gave it; the
    /// handshake uses the same source, with the chain.
    /// </summary>
    public async Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default)
    {
        var tls = new SslStream(_transport, leaveInnerStreamOpen: true);
        // A client that stalls the handshake must not hold the connection for the whole session.
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        handshake.CancelAfter(_options.CommandTimeout);
        await tls.AuthenticateAsServerAsync(_certificate.ServerOptions(), handshake.Token).ConfigureAwait(false);
        _transport = tls;
        (Input, Output) = Pipes(tls);
        IsSecure = true;
        SslProtocol = tls.SslProtocol;
    }

    (PipeReader, PipeWriter) Pipes(Stream transport)
    {
        var filtered = new SmtpInputFilter(transport, _options, _connection);
        return (PipeReader.Create(filtered, new StreamPipeReaderOptions(leaveOpen: true)), PipeWriter.Create(filtered, new StreamPipeWriterOptions(leaveOpen: true)));
    }

    public void Dispose()
    {
        _connection.Dispose();
        _transport.Dispose();
        _client.Dispose();
    }
}
