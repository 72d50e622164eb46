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

/// <summary>
/// Delivers one message to the recipients of one destination domain: MX hosts in order (or
/// the smarthost), the next host when a connection fails or the greeting is not 220, and
/// each recipient's own outcome from the one transaction (some 250, some 4xx, some 5xx).
/// </summary>
public sealed partial class SmtpOutbound(ActorMtaSettings settings, MxResolver resolver)
{
    DeliverySettings Delivery => settings.Delivery;

    public async Task<IReadOnlyList<DeliveryOutcome>> DeliverAsync(string domain, string sender, IReadOnlyList<OutboundRecipient> recipients, byte[] body, CancellationToken cancellationToken)
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
                    return All(recipients, i => new DeliveryOutcome.PermanentFailure(i, new AttemptReport(p.Dsn, p.Text, Relay: "none")));
                case MxRoute.Temporary t:
                    return All(recipients, i => new DeliveryOutcome.TemporaryFailure(i, new AttemptReport(t.Dsn, t.Text, Relay: "none")));
                case MxRoute.Hosts h:
                    hosts = h.List;
                    break;
                default:
                    throw new InvalidOperationException("unknown route");
            }
            requireTls = destination.RequireTls;
        }

        using var message = MimeMessage.Load(new MemoryStream(body, writable: false), cancellationToken);
        AttemptReport? lastFailure = null;
        foreach (var host in hosts)
        {
            foreach (var address in host.Addresses)
            {
                var relay = $"{host.Name}[{address}]:{port}";
                var attempt = await TryHostAsync(host.Name, address, port, relay, requireTls, sender, recipients, message, cancellationToken).ConfigureAwait(false);
                if (attempt.Outcomes is { } outcomes)
                    return outcomes;
                lastFailure = attempt.Failure;
            }
        }
        var failure = lastFailure ?? new AttemptReport("4.4.1", $"no address to connect to for {domain}", Relay: "none");
        return All(recipients, i => new DeliveryOutcome.TemporaryFailure(i, failure));
    }

    /// <summary>Either the recipients' outcomes (a transaction took place) or why this host could not be used.</summary>
    readonly record struct HostAttempt(IReadOnlyList<DeliveryOutcome>? Outcomes, AttemptReport? Failure);

    async Task<HostAttempt> TryHostAsync(string hostName, IPAddress address, int port, string relay, bool requireTls, string sender, IReadOnlyList<OutboundRecipient> recipients, MimeMessage message, CancellationToken cancellationToken)
    {
        using var client = new TransactionClient(recipients)
        {
            LocalDomain = settings.Hostname,
            Timeout = (int)Delivery.CommandTimeout.TotalMilliseconds,
            // Opportunistic TLS (RFC 3207) accepts any certificate: it protects against
            // eavesdropping, not impersonation. Required TLS checks the certificate.
            ServerCertificateValidationCallback = (_, _, _, errors) => !requireTls || errors == SslPolicyErrors.None,
        };
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connect.CancelAfter(Delivery.ConnectTimeout);
                await socket.ConnectAsync(address, port, connect.Token).ConfigureAwait(false);
            }
            await client.ConnectAsync(socket, hostName, port, requireTls ? SecureSocketOptions.StartTls : SecureSocketOptions.StartTlsWhenAvailable, cancellationToken).ConfigureAwait(false);
            if (Delivery.Smarthost is { Username: { } user, Password: var password })
                await client.AuthenticateAsync(user, password ?? "", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or SmtpProtocolException or SslHandshakeException or SmtpCommandException or AuthenticationException or NotSupportedException)
        {
            socket.Dispose();
            if (cancellationToken.IsCancellationRequested)
                throw;
            var reply = e is SmtpCommandException command ? $"{(int)command.StatusCode} {command.Message}" : null;
            return new HostAttempt(null, new AttemptReport(StatusOf(reply, '4', "4.4.1"), $"connect to {relay}: {Describe(e)}", hostName, relay, reply));
        }

        try
        {
            var reply = await client.SendAsync(FormatOptions.Default, message, Mailbox(sender), recipients.Select(r => Mailbox(r.Address)), cancellationToken).ConfigureAwait(false);
            var accepted = new AttemptReport(StatusOf("250 " + reply, '2', "2.0.0"), $"{hostName} said: 250 {reply}", hostName, relay, "250 " + reply);
            return new HostAttempt(client.Outcomes(accepted), null);
        }
        catch (NoRecipientAccepted)
        {
            return new HostAttempt(client.Outcomes(null), null);
        }
        catch (SmtpCommandException e)
        {
            // MAIL or DATA refused: the reply applies to every recipient not already refused.
            var reply = $"{(int)e.StatusCode} {e.Message}";
            var report = new AttemptReport(StatusOf(reply, (char)('0' + (int)e.StatusCode / 100), "4.0.0"), $"{hostName} said: {reply} (in reply to {Stage(e)})", hostName, relay, reply);
            return new HostAttempt(client.Outcomes(report), null);
        }
        catch (NotSupportedException e)
        {
            // RFC 6531 §3.2: the message needs SMTPUTF8 and the server lacks it.
            var report = new AttemptReport("5.6.7", $"{hostName} cannot take this message: {e.Message}", hostName, relay);
            return new HostAttempt(All(recipients, i => new DeliveryOutcome.PermanentFailure(i, report)), null);
        }
        catch (Exception e) when (e is IOException or SocketException or SmtpProtocolException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var report = new AttemptReport("4.4.2", $"lost connection with {relay} while sending: {Describe(e)}", hostName, relay);
            return new HostAttempt(All(recipients, i => new DeliveryOutcome.TemporaryFailure(i, report)), null);
        }
        finally
        {
            if (client.IsConnected)
            {
                try
                {
                    await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or SmtpProtocolException or SocketException or SmtpCommandException)
                {
                    // QUIT is a courtesy; the outcome is already known.
                }
            }
        }
    }

    static string Stage(SmtpCommandException e) => e.ErrorCode switch
    {
        SmtpErrorCode.SenderNotAccepted => "MAIL FROM command",
        SmtpErrorCode.MessageNotAccepted => "end of DATA command",
        _ => "SMTP command",
    };

    static MailboxAddress Mailbox(string address) => new("", address);

    static string Describe(Exception e) => e switch
    {
        SocketException s => s.SocketErrorCode.ToString(),
        OperationCanceledException => "timed out",
        SmtpCommandException c => $"{(int)c.StatusCode} {c.Message}",
        _ => e.Message,
    };

    /// <summary>The enhanced status code (RFC 3463) in a reply, else one from its class.</summary>
    static string StatusOf(string? reply, char replyClass, string fallback)
    {
        if (reply is not null && EnhancedCode().Match(reply) is { Success: true } match && match.Value[0] == replyClass)
            return match.Value;
        return replyClass is '2' or '4' or '5' ? $"{replyClass}{fallback[1..]}" : fallback;
    }

    [GeneratedRegex(@"(?<=^\d{3}[ -])[245]\.\d{1,3}\.\d{1,3}")]
    private static partial Regex EnhancedCode();

    static List<DeliveryOutcome> All(IReadOnlyList<OutboundRecipient> recipients, Func<int, DeliveryOutcome> outcome) =>
        recipients.Select(r => outcome(r.Index)).ToList();

    sealed class NoRecipientAccepted : Exception;

    /// <summary>Collects each recipient's RCPT reply instead of giving up at the first refusal.</summary>
    sealed class TransactionClient(IReadOnlyList<OutboundRecipient> recipients) : SmtpClient
    {
        readonly Dictionary<string, (SmtpStatusCode Code, string Text)> _refused = new(StringComparer.OrdinalIgnoreCase);
        string _host = "";
        string _relay = "";

        public new async Task ConnectAsync(Socket socket, string host, int port, SecureSocketOptions options, CancellationToken cancellationToken)
        {
            _host = host;
            _relay = $"{host}[{((IPEndPoint)socket.RemoteEndPoint!).Address}]:{port}";
            await base.ConnectAsync(socket, host, port, options, cancellationToken).ConfigureAwait(false);
        }

        protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, MailKit.Net.Smtp.SmtpResponse response) =>
            _refused[mailbox.Address] = (response.StatusCode, response.Response);

        protected override void OnNoRecipientsAccepted(MimeMessage message) => throw new NoRecipientAccepted();

        /// <param name="others">What happened to the recipients the server did not refuse at RCPT; null when it refused them all.</param>
        public List<DeliveryOutcome> Outcomes(AttemptReport? others) => recipients.Select(r =>
        {
            if (_refused.TryGetValue(r.Address, out var refusal))
            {
                var reply = $"{(int)refusal.Code} {refusal.Text}";
                var code = (int)refusal.Code;
                var report = new AttemptReport(StatusOf(reply, (char)('0' + code / 100), "5.0.0"), $"host {_host} said: {reply} (in reply to RCPT TO command)", _host, _relay, reply);
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
