using System.Text;
using ActorMta.Config;

namespace ActorMta.Edge;

/// <summary>The limits and names the filter needs, taken once from the settings.</summary>
sealed record WireOptions(string Hostname, string PostmasterDomain, int MaxCommandLine, int MaxMessageSize, int MaxErrors, TimeSpan CommandTimeout, TimeSpan DataTimeout)
{
    public WireOptions(ActorMtaSettings settings)
        : this(settings.Hostname, settings.Recipients.PrimaryDomain, settings.Smtp.MaxCommandLine, settings.Smtp.MaxMessageSize,
            settings.Smtp.MaxErrors, settings.Smtp.CommandTimeout, settings.Smtp.DataTimeout)
    {
    }
}

/// <summary>
/// Sits between the connection and SmtpServer's parser and guards the wire. It follows the
/// session by watching the server's replies (a 354 starts the message, CRLF.CRLF ends it).
/// <list type="bullet">
/// <item>Commands reach the parser one line at a time, each only once the previous one is
/// answered, so a reply the filter writes itself (500 for an over-long line) keeps its place.
/// Over-long lines are discarded, never buffered; a line ended by a bare LF gets its CR.
/// <c>RCPT TO:&lt;postmaster&gt;</c> without a domain (RFC 5321 §4.1.1.3) gets the primary domain.
/// A line that takes longer than the command timeout ends the connection with 421.</item>
/// <item>The message passes through unchanged behind an inserted CRLF, so that SmtpServer finds
/// the first line's dot-stuffing and an empty message the way RFC 5321 §4.5.2 means;
/// <see cref="QueueingMessageStore"/> removes it. Past the size limit the rest is dropped (the
/// store then answers 552). Silence longer than the data timeout ends the connection with 421.</item>
/// <item>Replies are counted: at the error limit the client is told 421 and disconnected; after
/// any 421 nothing more is read or written. The greeting waits for the connection's admission
/// and is replaced when it is refused.</item>
/// </list>
/// </summary>
sealed class SmtpInputFilter(Stream inner, WireOptions options, ConnectionState connection) : Stream
{
    static readonly byte[] BarePostmaster = "RCPT TO:<POSTMASTER>"u8.ToArray();

    // Received bytes not yet given to the parser: at most one command line, or message data.
    readonly byte[] _raw = new byte[Math.Max(16 * 1024, options.MaxCommandLine + 1)];
    int _rawStart;
    int _rawEnd;
    readonly MemoryStream _ready = new();
    int _readyOffset;
    DataScanner? _data;
    bool _discardingLongLine;
    bool _awaitingDataReply;
    readonly byte[] _replyStart = new byte[4];
    int _replyStartLength;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // The parser asks once per command line (it gets them one at a time), so one timeout per
        // call bounds the whole line: a client that sends a byte a minute is still cut off.
        using var lineTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_data is null)
            lineTimeout.CancelAfter(options.CommandTimeout);
        while (true)
        {
            if (TakeReady(buffer.Span) is var taken and > 0)
                return taken;
            if (connection.Closing)
                return 0;
            if (_data is not null ? TakeData() : await TakeCommandLineAsync(cancellationToken).ConfigureAwait(false))
                continue;
            // At the end of the stream a partial line is not a command: it is dropped.
            if (!await FillAsync(lineTimeout.Token, cancellationToken).ConfigureAwait(false))
                return 0;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!connection.GreetingSent)
        {
            connection.GreetingSent = true;
            if (await connection.Admission.ConfigureAwait(false) is { } refusal)
            {
                // The server's decision, not the client's error: it does not count towards max-errors.
                connection.Refused = refusal.StartsWith("554", StringComparison.Ordinal);
                connection.Closing = !connection.Refused;
                await inner.WriteAsync(Encoding.ASCII.GetBytes(refusal + "\r\n"), cancellationToken).ConfigureAwait(false);
                await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
        }
        await SendAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            inner.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Reads more from the client; false at the end of the stream or after a timeout (answered 421).</summary>
    async ValueTask<bool> FillAsync(CancellationToken lineTimeout, CancellationToken cancellationToken)
    {
        if (_rawStart > 0)
        {
            _raw.AsSpan(_rawStart, _rawEnd - _rawStart).CopyTo(_raw);
            (_rawStart, _rawEnd) = (0, _rawEnd - _rawStart);
        }
        // In a message only silence counts (RFC 5321 §4.5.3.2.5); the session timeout bounds a slow one.
        using var idleTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_data is not null)
            idleTimeout.CancelAfter(options.DataTimeout);
        try
        {
            var read = await inner.ReadAsync(_raw.AsMemory(_rawEnd), _data is null ? lineTimeout : idleTimeout.Token).ConfigureAwait(false);
            _rawEnd += read;
            return read > 0;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            connection.Report(_data is null ? "timeout waiting for a command" : "timeout in the middle of a message");
            await ReplyAsync($"421 4.4.2 {options.Hostname} Error: timeout exceeded", cancellationToken).ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>Passes message data up to and including its terminator.</summary>
    bool TakeData()
    {
        if (_rawEnd == _rawStart)
            return false;
        var input = _raw.AsSpan(_rawStart, _rawEnd - _rawStart);
        var (consumed, passed, ended) = _data!.Scan(input);
        Emit(input[..passed]);
        _rawStart += consumed;
        if (ended)
        {
            if (_data.Truncated)
                Emit(_data.Completion);
            _data = null;
            _awaitingDataReply = true;
        }
        return true;
    }

    /// <summary>Handles one complete command line, if one has arrived.</summary>
    async ValueTask<bool> TakeCommandLineAsync(CancellationToken cancellationToken)
    {
        var pending = _raw.AsSpan(_rawStart, _rawEnd - _rawStart);
        var newline = pending.IndexOf((byte)'\n');
        if (newline < 0)
        {
            if (_discardingLongLine || pending.Length >= options.MaxCommandLine)
            {
                _discardingLongLine = true;
                _rawStart = _rawEnd;
            }
            return false;
        }
        var line = pending[..(newline + 1)];
        _rawStart += newline + 1;
        if (_discardingLongLine || line.Length > options.MaxCommandLine)
        {
            _discardingLongLine = false;
            await ReplyAsync("500 5.5.2 Error: command line too long", cancellationToken).ConfigureAwait(false);
        }
        else if (connection.Refused)
        {
            var quit = Ascii.EqualsIgnoreCase(line.TrimEnd("\r\n"u8).Trim((byte)' '), "QUIT"u8);
            await ReplyAsync(quit ? "221 2.0.0 Bye" : "503 5.7.0 Error: access denied", cancellationToken).ConfigureAwait(false);
            connection.Closing |= quit;
        }
        else
        {
            EmitCommandLine(_raw.AsSpan(_rawStart - line.Length, line.Length));
        }
        return true;
    }

    void EmitCommandLine(ReadOnlySpan<byte> line)
    {
        var command = line.TrimEnd("\n"u8).TrimEnd("\r"u8);
        RememberHelo(command);
        if (command.Length >= BarePostmaster.Length && Ascii.EqualsIgnoreCase(command[..BarePostmaster.Length], BarePostmaster))
        {
            // "RCPT TO:<postmaster>" + optional parameters
            Emit("RCPT TO:<postmaster@"u8);
            Emit(Encoding.ASCII.GetBytes(options.PostmasterDomain));
            Emit(">"u8);
            Emit(command[BarePostmaster.Length..]);
        }
        else
        {
            Emit(command);
        }
        // SmtpServer waits for CRLF; a client that ends its lines with a bare LF gets an answer too.
        Emit("\r\n"u8);
    }

    void RememberHelo(ReadOnlySpan<byte> command)
    {
        if (command.Length > 5 && (Ascii.EqualsIgnoreCase(command[..5], "EHLO "u8) || Ascii.EqualsIgnoreCase(command[..5], "HELO "u8)))
        {
            var argument = command[5..].TrimStart((byte)' ');
            var end = argument.IndexOf((byte)' ');
            connection.HeloArgument = Encoding.ASCII.GetString(end < 0 ? argument : argument[..end]);
        }
    }

    async ValueTask ReplyAsync(string reply, CancellationToken cancellationToken) =>
        await SendAsync(Encoding.ASCII.GetBytes(reply + "\r\n"), cancellationToken).ConfigureAwait(false);

    /// <summary>Writes replies to the client, and closes the session at the error limit.</summary>
    async ValueTask SendAsync(ReadOnlyMemory<byte> replies, CancellationToken cancellationToken)
    {
        if (connection.Closing)
            return;
        await inner.WriteAsync(replies, cancellationToken).ConfigureAwait(false);
        await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (ObserveReplies(replies.Span) && !connection.Closing)
        {
            connection.Closing = true;
            connection.Report($"too many errors ({connection.Errors})");
            await inner.WriteAsync(Encoding.ASCII.GetBytes($"421 4.7.0 {options.Hostname} Error: too many errors\r\n"), cancellationToken).ConfigureAwait(false);
            await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <returns>True when the error limit has been reached.</returns>
    bool ObserveReplies(ReadOnlySpan<byte> replies)
    {
        var limitReached = false;
        foreach (var b in replies)
        {
            if (b == '\n')
            {
                _replyStartLength = 0;
                continue;
            }
            if (_replyStartLength >= _replyStart.Length)
                continue;
            _replyStart[_replyStartLength++] = b;
            // "NNN " is the last line of a reply; "NNN-" continues it.
            if (_replyStartLength == _replyStart.Length && b == ' ' && int.TryParse(_replyStart.AsSpan(0, 3), out var code))
                limitReached |= OnReply(code);
        }
        return limitReached;
    }

    bool OnReply(int code)
    {
        var afterData = _awaitingDataReply;
        _awaitingDataReply = false;
        if (code == 354)
        {
            _data = new DataScanner(options.MaxMessageSize);
            Emit("\r\n"u8);
        }
        else if (code == 421)
        {
            connection.Closing = true;
        }
        else if (code >= 400)
        {
            return ++connection.Errors >= options.MaxErrors;
        }
        else if (afterData)
        {
            // A delivered message clears the slate: a list server with stale addresses keeps its connection.
            connection.Errors = 0;
        }
        return false;
    }

    void Emit(ReadOnlySpan<byte> bytes) => _ready.Write(bytes);

    int TakeReady(Span<byte> destination)
    {
        var available = (int)_ready.Length - _readyOffset;
        if (available == 0 || destination.Length == 0)
            return 0;
        var count = Math.Min(available, destination.Length);
        _ready.GetBuffer().AsSpan(_readyOffset, count).CopyTo(destination);
        _readyOffset += count;
        if (_readyOffset == _ready.Length)
        {
            _ready.SetLength(0);
            _readyOffset = 0;
        }
        return count;
    }

    /// <summary>
    /// Follows the message bytes through the one terminator SmtpServer recognises, CRLF.CRLF,
    /// so that filter and parser always agree where the message ends: <c>\n.\n</c>,
    /// <c>\r.\r</c> and the like are content. Past the size limit it stops passing bytes on
    /// and, at the client's terminator, supplies the rest of one.
    /// </summary>
    sealed class DataScanner(int maxMessageSize)
    {
        static ReadOnlySpan<byte> Terminator => "\r\n.\r\n"u8;

        // The filter's inserted CRLF counts: a first line of "." ends an empty message.
        int _matched = 2;
        int _matchedAtCut = -1;
        long _size;

        public bool Truncated => _matchedAtCut >= 0;

        /// <summary>What completes the terminator after the last byte passed on.</summary>
        public ReadOnlySpan<byte> Completion => Terminator[_matchedAtCut..];

        /// <returns>Bytes that belong to the message, how many of them to pass on, and whether the terminator was among them.</returns>
        public (int Consumed, int Passed, bool Ended) Scan(ReadOnlySpan<byte> input)
        {
            var passed = Truncated ? 0 : input.Length;
            for (var i = 0; i < input.Length; i++)
            {
                // Room for the terminator; the store compares the exact size.
                if (!Truncated && ++_size > (long)maxMessageSize + Terminator.Length)
                {
                    _matchedAtCut = _matched;
                    passed = i;
                }
                _matched = input[i] == Terminator[_matched] ? _matched + 1 : input[i] == '\r' ? 1 : 0;
                if (_matched == Terminator.Length)
                    return (i + 1, Truncated ? passed : i + 1, true);
            }
            return (input.Length, passed, false);
        }
    }
}
