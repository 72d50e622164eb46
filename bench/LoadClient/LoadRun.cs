using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace LoadClient;

/// <summary>
/// Sends on a fixed schedule over a pool of reused SMTP sessions. Each session takes the next
/// message number, waits until it is due and sends it; when every session is busy the next
/// message starts late, and that lateness is recorded beside its latency.
/// </summary>
public sealed class LoadRun(Options options)
{
    // The warm-up must finish within WarmupLimit; in-flight transactions get Grace past the
    // schedule's end before they are abandoned.
    static readonly TimeSpan WarmupLimit = TimeSpan.FromSeconds(60);
    static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    readonly string _body = Body(options.Size);
    readonly double[] _latencyMs = new double[options.Messages];
    readonly double[] _behindMs = new double[options.Messages];
    readonly bool[] _sent = new bool[options.Messages];
    int _next = -1;
    int _scheduled;
    int _errors;
    string? _firstError;
    long _start;
    long _lastReply;

    public async Task<LoadResult> RunAsync()
    {
        using var deadline = new CancellationTokenSource(WarmupLimit);
        var sessions = Enumerable.Range(0, options.Connections).Select(_ => new Session(options)).ToList();
        try
        {
            await Task.WhenAll(sessions.Select(s => WarmUpAsync(s, deadline.Token)));
            _start = _lastReply = Stopwatch.GetTimestamp();
            deadline.CancelAfter(options.Duration + Grace);
            await Task.WhenAll(sessions.Select(s => WorkAsync(s, deadline.Token)));
        }
        finally
        {
            await Task.WhenAll(sessions.Select(s => s.CloseAsync()));
        }
        return Summarize();
    }

    async Task WarmUpAsync(Session session, CancellationToken cancellationToken)
    {
        for (var i = 0; i < options.Warmup; i++)
            await session.SendAsync(Message($"warmup-{Guid.NewGuid():N}"), cancellationToken);
    }

    async Task WorkAsync(Session session, CancellationToken cancellationToken)
    {
        while (Interlocked.Increment(ref _next) is var i && i < options.Messages)
        {
            var due = _start + (long)(i / options.Rate * Stopwatch.Frequency);
            if (Stopwatch.GetElapsedTime(_start, due) >= options.Duration)
                return;
            Interlocked.Increment(ref _scheduled);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            try
            {
                if (wait > TimeSpan.Zero)
                    await Task.Delay(wait, cancellationToken);
                await session.ConnectAsync(cancellationToken);
                var message = Message($"load-{i}");
                var begun = Stopwatch.GetTimestamp();
                _behindMs[i] = Stopwatch.GetElapsedTime(due, begun).TotalMilliseconds;
                await session.SendAsync(message, cancellationToken);
                var replied = Stopwatch.GetTimestamp();
                _latencyMs[i] = Stopwatch.GetElapsedTime(begun, replied).TotalMilliseconds;
                _sent[i] = true;
                InterlockedMax(ref _lastReply, replied);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Interlocked.Increment(ref _errors);
                Interlocked.CompareExchange(ref _firstError, e.GetBaseException().Message, null);
                session.Drop();
                if (cancellationToken.IsCancellationRequested)
                    return;
            }
        }
    }

    LoadResult Summarize()
    {
        var sent = Enumerable.Range(0, _scheduled).Where(i => _sent[i]).ToList();
        var seconds = Stopwatch.GetElapsedTime(_start, _lastReply).TotalSeconds;
        return new LoadResult(
            options.Rate,
            options.Connections,
            _scheduled,
            sent.Count,
            _errors,
            Math.Round(seconds, 2),
            seconds > 0 ? Math.Round(sent.Count / seconds, 1) : 0,
            Percentiles.Of(sent.Select(i => _latencyMs[i])),
            Percentiles.Of(sent.Select(i => _behindMs[i])),
            _firstError);
    }

    MimeMessage Message(string id)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(options.From));
        message.To.Add(MailboxAddress.Parse(options.To));
        message.Subject = id;
        message.MessageId = $"{id}.{Environment.ProcessId}@loadclient.bench";
        message.Body = new TextPart("plain") { Text = _body, ContentTransferEncoding = ContentEncoding.SevenBit };
        return message;
    }

    /// <summary>Lines of 76 characters; <paramref name="size"/> bytes on the wire with CRLF line ends.</summary>
    static string Body(int size)
    {
        var text = new StringBuilder(size);
        for (var left = size; left >= 3; left -= 78)
            text.Append('x', Math.Min(76, left - 2)).Append("\r\n");
        return text.ToString();
    }

    static void InterlockedMax(ref long target, long value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, seen) == seen)
                return;
        }
    }

    /// <summary>One SMTP connection, reopened after <see cref="Options.PerSession"/> messages or an error.</summary>
    sealed class Session(Options options)
    {
        readonly MailboxAddress _sender = MailboxAddress.Parse(options.From);
        readonly MailboxAddress[] _recipients = [MailboxAddress.Parse(options.To)];
        SmtpClient _client = NewClient();
        int _messages;

        public async Task ConnectAsync(CancellationToken cancellationToken)
        {
            if (_client.IsConnected && _messages < options.PerSession)
                return;
            if (_client.IsConnected)
                await _client.DisconnectAsync(quit: true, cancellationToken);
            // Without NoDelay the end of DATA waits for the server's delayed ACK (Nagle): 40 ms a message.
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(options.Host, options.Port, cancellationToken);
                await _client.ConnectAsync(socket, options.Host, options.Port, SecureSocketOptions.None, cancellationToken);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            _messages = 0;
        }

        public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
        {
            await ConnectAsync(cancellationToken);
            await _client.SendAsync(message, _sender, _recipients, cancellationToken);
            _messages++;
        }

        /// <summary>After an error the session's state is unknown: start the next message on a new connection.</summary>
        public void Drop()
        {
            _client.Dispose();
            _client = NewClient();
        }

        public async Task CloseAsync()
        {
            try
            {
                if (_client.IsConnected)
                    await _client.DisconnectAsync(quit: true, CancellationToken.None);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The numbers are in; a server that drops the QUIT changes none of them.
            }
            _client.Dispose();
        }

        static SmtpClient NewClient() => new() { LocalDomain = "loadclient.bench", Timeout = 30_000 };
    }
}
