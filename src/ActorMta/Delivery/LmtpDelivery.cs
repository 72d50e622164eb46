using System.Net;
using System.Net.Sockets;
using System.Text;
using ActorMta.Protocol;
using ActorMta.Queue;

namespace ActorMta.Delivery;

/// <summary>
/// Hands local mail to a mailbox server (Dovecot, Cyrus) over LMTP (RFC 2033). LMTP answers
/// the end of DATA once per recipient, so each mailbox's own outcome is known. MailKit speaks
/// SMTP but not LMTP, hence this small client.
/// </summary>
public sealed class LmtpDelivery(string hostname, TimeSpan timeout)
{
    /// <param name="endpoint">"host:port", or "unix:/path/to/socket".</param>
    public async Task<IReadOnlyList<DeliveryOutcome>> DeliverAsync(string endpoint, string sender, IReadOnlyList<OutboundRecipient> recipients, byte[] body, CancellationToken cancellationToken)
    {
        var relay = $"lmtp:{endpoint}";
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var token = deadline.Token;
        Socket socket;
        try
        {
            socket = await ConnectAsync(endpoint, token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or FormatException)
        {
            return All(recipients, new AttemptReport("4.4.1", $"connect to {relay}: {e.Message}", Relay: relay), temporary: true);
        }

        using (socket)
        await using (var stream = new NetworkStream(socket, ownsSocket: false))
        {
            var session = new Session(stream);
            try
            {
                if (await session.ReadAsync(token).ConfigureAwait(false) is not { Code: 220 })
                    return All(recipients, Report("4.4.2", "greeting", session.Last, relay), temporary: true);
                if (await session.CommandAsync($"LHLO {hostname}", token).ConfigureAwait(false) is not { Code: 250 })
                    return All(recipients, Report("4.5.0", "LHLO", session.Last, relay), temporary: true);
                var mail = await session.CommandAsync($"MAIL FROM:<{sender}>", token).ConfigureAwait(false);
                if (mail.Code != 250)
                    return All(recipients, Report(null, "MAIL FROM", mail, relay), temporary: mail.Code < 500);

                var outcomes = new DeliveryOutcome?[recipients.Count];
                var accepted = new List<int>();
                for (var i = 0; i < recipients.Count; i++)
                {
                    var reply = await session.CommandAsync($"RCPT TO:<{recipients[i].Address}>", token).ConfigureAwait(false);
                    if (reply.Code == 250)
                        accepted.Add(i);
                    else
                        outcomes[i] = Outcome(recipients[i].Index, reply, "RCPT TO", relay);
                }
                if (accepted.Count > 0)
                {
                    var data = await session.CommandAsync("DATA", token).ConfigureAwait(false);
                    if (data.Code != 354)
                    {
                        foreach (var i in accepted)
                            outcomes[i] = Outcome(recipients[i].Index, data, "DATA", relay);
                    }
                    else
                    {
                        await session.WriteDataAsync(body, token).ConfigureAwait(false);
                        // RFC 2033 §4.2: one reply per accepted recipient, in RCPT order.
                        foreach (var i in accepted)
                            outcomes[i] = Outcome(recipients[i].Index, await session.ReadAsync(token).ConfigureAwait(false), "end of DATA", relay);
                    }
                }
                await session.CommandAsync("QUIT", token).ConfigureAwait(false);
                return [.. outcomes.Select(o => o!)];
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return All(recipients, new AttemptReport("4.4.2", $"lost connection with {relay}: {e.Message}", Relay: relay), temporary: true);
            }
        }
    }

    static async Task<Socket> ConnectAsync(string endpoint, CancellationToken token)
    {
        if (endpoint.StartsWith("unix:", StringComparison.Ordinal))
        {
            var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await unix.ConnectAsync(new UnixDomainSocketEndPoint(endpoint["unix:".Length..]), token).ConfigureAwait(false);
            return unix;
        }
        var ip = IPEndPoint.Parse(endpoint);
        var tcp = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await tcp.ConnectAsync(ip, token).ConfigureAwait(false);
        return tcp;
    }

    static DeliveryOutcome Outcome(int index, Reply reply, string stage, string relay)
    {
        var report = Report(null, stage, reply, relay);
        return reply.Code switch
        {
            >= 200 and < 300 => new DeliveryOutcome.Delivered(index, report),
            >= 500 => new DeliveryOutcome.PermanentFailure(index, report),
            _ => new DeliveryOutcome.TemporaryFailure(index, report),
        };
    }

    static AttemptReport Report(string? dsn, string stage, Reply? reply, string relay)
    {
        var text = reply is null ? "connection closed" : $"{reply.Code} {reply.Text}";
        var code = dsn ?? reply?.EnhancedCode ?? $"{(reply?.Code ?? 400) / 100}.0.0";
        return new AttemptReport(code, $"{relay} said: {text} (in reply to {stage})", RemoteMta: relay, Relay: relay, Diagnostic: reply is null ? null : text);
    }

    static List<DeliveryOutcome> All(IReadOnlyList<OutboundRecipient> recipients, AttemptReport report, bool temporary) =>
        [.. recipients.Select(r => temporary ? (DeliveryOutcome)new DeliveryOutcome.TemporaryFailure(r.Index, report) : new DeliveryOutcome.PermanentFailure(r.Index, report))];

    sealed record Reply(int Code, string Text)
    {
        public string? EnhancedCode
        {
            get
            {
                var first = Text.Split(' ', 2)[0];
                return first.Length >= 5 && first[0] is '2' or '4' or '5' && first[1] == '.' ? first : null;
            }
        }
    }

    /// <summary>Reads replies (multi-line joined) and writes commands and dot-stuffed data.</summary>
    sealed class Session(NetworkStream stream)
    {
        readonly StreamReader _reader = new(stream, Encoding.ASCII, false, 4096, leaveOpen: true);

        public Reply? Last { get; private set; }

        public async Task<Reply> CommandAsync(string line, CancellationToken token)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\r\n"), token).ConfigureAwait(false);
            return await ReadAsync(token).ConfigureAwait(false);
        }

        public async Task<Reply> ReadAsync(CancellationToken token)
        {
            var text = new StringBuilder();
            while (true)
            {
                var line = await _reader.ReadLineAsync(token).ConfigureAwait(false) ?? throw new IOException("connection closed");
                if (line.Length < 3 || !int.TryParse(line.AsSpan(0, 3), out var code))
                    throw new IOException($"malformed reply: {line}");
                if (text.Length > 0)
                    text.Append(' ');
                text.Append(line.Length > 4 ? line[4..] : "");
                if (line.Length == 3 || line[3] != '-')
                    return Last = new Reply(code, text.ToString());
            }
        }

        /// <summary>RFC 5321 §4.5.2: a line starting with '.' gets another; the body ends with CRLF.CRLF.</summary>
        public async Task WriteDataAsync(byte[] body, CancellationToken token)
        {
            using var output = new MemoryStream(body.Length + 64);
            var atLineStart = true;
            foreach (var b in body)
            {
                if (atLineStart && b == '.')
                    output.WriteByte((byte)'.');
                output.WriteByte(b);
                atLineStart = b == '\n';
            }
            if (!atLineStart)
                output.Write("\r\n"u8);
            output.Write(".\r\n"u8);
            await stream.WriteAsync(output.GetBuffer().AsMemory(0, (int)output.Length), token).ConfigureAwait(false);
        }
    }
}
