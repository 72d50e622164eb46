using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using ActorMta.Config;
using ActorMta.Dns;
using ActorMta.Protocol;
using ActorMta.Queue;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace ActorMta.Delivery;

/// <summary>One remote recipient of an outbound transaction: its index in the message, its address.</summary>
public sealed record OutboundRecipient(int Index, string Address);

/// <summary>Either an open session to the destination, or why none could be opened.</summary>
public abstract record OutboundConnection
{
    public sealed record Open(OutboundSession Session) : OutboundConnection;

    /// <param name="Permanent">The domain can never receive mail (null MX, NXDOMAIN).</param>
    /// <param name="Unreachable">Every host refused, timed out or greeted with 4xx: news about the destination, unlike DNS trouble.</param>
    public sealed record Failed(AttemptReport Report, bool Permanent, bool Unreachable) : OutboundConnection;
}

/// <summary>
/// Outbound SMTP in two steps, so that one session carries many messages: <see cref="ConnectAsync"/>
/// walks the MX hosts in order (or goes to the smarthost), moving on when a connection fails or
/// the greeting is not 220, and returns a session that has done EHLO, STARTTLS and AUTH;
/// <see cref="OutboundSession.SendAsync"/> runs one transaction on it with each recipient's own
/// outcome (some 250, some 4xx, some 5xx).
/// </summary>
public sealed partial class SmtpOutbound(ActorMtaSettings settings, MxResolver resolver)
{
    DeliverySettings Delivery => settings.Delivery;

    /// <summary>Whether one session can carry mail for both domains (a router keyed by MX site serves several).</summary>
    public bool CanShare(string domain, string other)
    {
        if (Delivery.Smarthost is not null || string.Equals(domain, other, StringComparison.Ordinal))
            return true;
        var (a, b) = (Delivery.For(domain), Delivery.For(other));
        return a.Port == b.Port && a.RequireTls == b.RequireTls;
    }

    public async Task<OutboundConnection> ConnectAsync(string domain, TimeSpan connectTimeout, TimeSpan commandTimeout, CancellationToken cancellationToken)
    {
        var destination = Delivery.For(domain);
        IReadOnlyList<MxHost> hosts;
        bool requireTls;
        var port = destination.Port;
        if (Delivery.Smarthost is { } smarthost)
        {
            var addresses = IPAddress.TryParse(smarthost.Host, out var literal) ? [literal] : await System.Net.Dns.GetHostAddressesAsync(smarthost.Host, cancellationToken).ConfigureAwait(false);
            hosts = [new MxHost(smarthost.Host, 0, addresses)];
            port = smarthost.Port;
            requireTls = smarthost.RequireTls;
        }
        else
        {
            switch (await resolver.ResolveAsync(domain, cancellationToken).ConfigureAwait(false))
            {
                case MxRoute.Permanent p:
                    return new OutboundConnection.Failed(new AttemptReport(p.Dsn, p.Text, Relay: "none"), Permanent: true, Unreachable: false);
                case MxRoute.Temporary t:
                    return new OutboundConnection.Failed(new AttemptReport(t.Dsn, t.Text, Relay: "none"), Permanent: false, Unreachable: false);
                case MxRoute.Hosts h:
                    hosts = h.List;
                    break;
                default:
                    throw new InvalidOperationException("unknown route");
            }
            requireTls = destination.RequireTls;
        }

        AttemptReport? lastFailure = null;
        foreach (var host in hosts)
        {
            foreach (var address in host.Addresses)
            {
                var attempt = await TryHostAsync(host.Name, address, port, requireTls, connectTimeout, commandTimeout, cancellationToken).ConfigureAwait(false);
                if (attempt is OutboundConnection.Open)
                    return attempt;
                lastFailure = ((OutboundConnection.Failed)attempt).Report;
            }
        }
        return new OutboundConnection.Failed(lastFailure ?? new AttemptReport("4.4.1", $"no address to connect to for {domain}", Relay: "none"), Permanent: false, Unreachable: true);
    }

    async Task<OutboundConnection> TryHostAsync(string hostName, IPAddress address, int port, bool requireTls, TimeSpan connectTimeout, TimeSpan commandTimeout, CancellationToken cancellationToken)
    {
        var relay = $"{hostName}[{address}]:{port}";
        var client = new TransactionClient(hostName, relay)
        {
            LocalDomain = settings.Hostname,
            Timeout = (int)commandTimeout.TotalMilliseconds,
            // Opportunistic TLS (RFC 3207) accepts any certificate: it protects against
            // eavesdropping, not impersonation. Required TLS checks the certificate.
            ServerCertificateValidationCallback = (_, _, _, errors) => !requireTls || errors == SslPolicyErrors.None,
        };
        // A reused session sends each transaction's commands as small writes: without NoDelay,
        // Nagle's algorithm holds them for the peer's delayed ACK (~40 ms a message).
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connect.CancelAfter(connectTimeout);
                await socket.ConnectAsync(address, port, connect.Token).ConfigureAwait(false);
            }
            await client.ConnectAsync(socket, hostName, port, requireTls ? SecureSocketOptions.StartTls : SecureSocketOptions.StartTlsWhenAvailable, cancellationToken).ConfigureAwait(false);
            if (Delivery.Smarthost is { Username: { } user, Password: var password })
                await client.AuthenticateAsync(user, password ?? "", cancellationToken).ConfigureAwait(false);
            return new OutboundConnection.Open(new OutboundSession(client));
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or SmtpProtocolException or SslHandshakeException or SmtpCommandException or AuthenticationException or NotSupportedException)
        {
            client.Dispose();
            socket.Dispose();
            if (cancellationToken.IsCancellationRequested)
                throw;
            var reply = e is SmtpCommandException command ? $"{(int)command.StatusCode} {command.Message}" : null;
            return new OutboundConnection.Failed(new AttemptReport(StatusOf(reply, '4', "4.4.1"), $"connect to {relay}: {Describe(e)}", hostName, relay, reply), Permanent: false, Unreachable: true);
        }
    }

    internal static string Stage(SmtpCommandException e) => e.ErrorCode switch
    {
        SmtpErrorCode.SenderNotAccepted => "MAIL FROM command",
        SmtpErrorCode.MessageNotAccepted => "end of DATA command",
        _ => "SMTP command",
    };

    internal static MailboxAddress Mailbox(string address) => new("", address);

    internal static string Describe(Exception e) => e switch
    {
        SocketException s => s.SocketErrorCode.ToString(),
        OperationCanceledException => "timed out",
        SmtpCommandException c => $"{(int)c.StatusCode} {c.Message}",
        _ => e.Message,
    };

    /// <summary>The enhanced status code (RFC 3463) in a reply, else one from its class.</summary>
    internal static string StatusOf(string? reply, char replyClass, string fallback)
    {
        if (reply is not null && EnhancedCode().Match(reply) is { Success: true } match && match.Value[0] == replyClass)
            return match.Value;
        return replyClass is '2' or '4' or '5' ? $"{replyClass}{fallback[1..]}" : fallback;
    }

    [GeneratedRegex(@"(?<=^\d{3}[ -])[245]\.\d{1,3}\.\d{1,3}")]
    private static partial Regex EnhancedCode();

    internal static List<DeliveryOutcome> All(IReadOnlyList<OutboundRecipient> recipients, Func<int, DeliveryOutcome> outcome) =>
        recipients.Select(r => outcome(r.Index)).ToList();


    /// <summary>Collects each recipient's RCPT reply instead of giving up at the first refusal.</summary>
    internal sealed class TransactionClient(string host, string relay) : SmtpClient
    {
        readonly Dictionary<string, (SmtpStatusCode Code, string Text)> _refused = new(StringComparer.OrdinalIgnoreCase);
        IReadOnlyList<OutboundRecipient> _recipients = [];

        public string Host => host;
        public string Relay => relay;

        /// <summary>The server refused every recipient at RCPT; MailKit then resets the transaction with RSET.</summary>
        public bool NoneAccepted { get; private set; }

        /// <summary>A 421 (RFC 5321 §3.8: the server is closing the channel) to a recipient.</summary>
        public bool Throttled => _refused.Values.Any(r => r.Code == SmtpStatusCode.ServiceNotAvailable);

        public void Begin(IReadOnlyList<OutboundRecipient> recipients)
        {
            _recipients = recipients;
            _refused.Clear();
            NoneAccepted = false;
        }

        protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, MailKit.Net.Smtp.SmtpResponse response) =>
            _refused[mailbox.Address] = (response.StatusCode, response.Response);

        protected override void OnNoRecipientsAccepted(MimeMessage message) => NoneAccepted = true;

        /// <param name="others">What happened to the recipients the server did not refuse at RCPT; null when it refused them all.</param>
        public List<DeliveryOutcome> Outcomes(AttemptReport? others) => _recipients.Select(r =>
        {
            if (_refused.TryGetValue(r.Address, out var refusal))
            {
                var reply = $"{(int)refusal.Code} {refusal.Text}";
                var code = (int)refusal.Code;
                var report = new AttemptReport(StatusOf(reply, (char)('0' + code / 100), "5.0.0"), $"host {host} said: {reply} (in reply to RCPT TO command)", host, relay, reply);
                return code >= 500 ? new DeliveryOutcome.PermanentFailure(r.Index, report) : (DeliveryOutcome)new DeliveryOutcome.TemporaryFailure(r.Index, report);
            }
            var outcome = others!;
            return outcome.Dsn[0] switch
            {
                '2' => new DeliveryOutcome.Delivered(r.Index, outcome),
                '5' => new DeliveryOutcome.PermanentFailure(r.Index, outcome),
                _ => (DeliveryOutcome)new DeliveryOutcome.TemporaryFailure(r.Index, outcome),
            };
        }).ToList();
    }
}

/// <summary>Each recipient's outcome of one transaction.</summary>
/// <param name="Throttled">The server answered 421 or the connection broke: the destination wants fewer sessions.</param>
public sealed record TransactionResult(IReadOnlyList<DeliveryOutcome> Outcomes, bool Throttled);

/// <summary>
/// An SMTP session past EHLO (and STARTTLS, AUTH) that carries one transaction after another;
/// MailKit resets a failed transaction with RSET, so the next one starts clean.
/// </summary>
public sealed class OutboundSession : IAsyncDisposable
{
    readonly SmtpOutbound.TransactionClient _client;
    bool _closing;

    internal OutboundSession(SmtpOutbound.TransactionClient client)
    {
        _client = client;
    }

    /// <summary>host[address]:port, as the log shows it.</summary>
    public string Relay => _client.Relay;

    /// <summary>Whether another transaction may use this session.</summary>
    public bool IsOpen => _client.IsConnected && !_closing;

    public async Task<TransactionResult> SendAsync(string sender, IReadOnlyList<OutboundRecipient> recipients, byte[] body, CancellationToken cancellationToken)
    {
        var (host, relay) = (_client.Host, _client.Relay);
        _client.Begin(recipients);
        try
        {
            using var message = MimeMessage.Load(new MemoryStream(body, writable: false), cancellationToken);
            var reply = await _client.SendAsync(FormatOptions.Default, message, SmtpOutbound.Mailbox(sender), recipients.Select(r => SmtpOutbound.Mailbox(r.Address)), cancellationToken).ConfigureAwait(false);
            var accepted = new AttemptReport(SmtpOutbound.StatusOf("250 " + reply, '2', "2.0.0"), $"{host} said: 250 {reply}", host, relay, "250 " + reply);
            return Finish(_client.Outcomes(accepted), _client.Throttled);
        }
        catch (SmtpCommandException) when (_client.NoneAccepted)
        {
            return Finish(_client.Outcomes(null), _client.Throttled);
        }
        catch (SmtpCommandException e)
        {
            // MAIL or DATA refused: the reply applies to every recipient not already refused.
            var reply = $"{(int)e.StatusCode} {e.Message}";
            var report = new AttemptReport(SmtpOutbound.StatusOf(reply, (char)('0' + (int)e.StatusCode / 100), "4.0.0"), $"{host} said: {reply} (in reply to {SmtpOutbound.Stage(e)})", host, relay, reply);
            return Finish(_client.Outcomes(report), _client.Throttled || e.StatusCode == SmtpStatusCode.ServiceNotAvailable);
        }
        catch (NotSupportedException e)
        {
            // RFC 6531 §3.2: the message needs SMTPUTF8 and the server lacks it.
            var report = new AttemptReport("5.6.7", $"{host} cannot take this message: {e.Message}", host, relay);
            return Finish(SmtpOutbound.All(recipients, i => new DeliveryOutcome.PermanentFailure(i, report)), throttled: false);
        }
        catch (Exception e) when (e is IOException or SocketException or SmtpProtocolException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var report = new AttemptReport("4.4.2", $"lost connection with {relay} while sending: {SmtpOutbound.Describe(e)}", host, relay);
            return Finish(SmtpOutbound.All(recipients, i => new DeliveryOutcome.TemporaryFailure(i, report)), throttled: true);
        }
    }

    /// <summary>After a 421 the server is closing the channel: no further transaction on it.</summary>
    TransactionResult Finish(IReadOnlyList<DeliveryOutcome> outcomes, bool throttled)
    {
        _closing |= throttled;
        return new TransactionResult(outcomes, throttled);
    }

    /// <summary>QUIT, as a courtesy; the outcomes are already known.</summary>
    public async ValueTask DisposeAsync()
    {
        _closing = true;
        if (_client.IsConnected)
        {
            try
            {
                await _client.DisconnectAsync(quit: true, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SmtpProtocolException or SocketException or SmtpCommandException or OperationCanceledException)
            {
            }
        }
        _client.Dispose();
    }
}
