using System.Text;

namespace ActorMta.Edge;

/// <summary>
/// Sits between the connection and SmtpServer's parser. It follows the session by watching
/// the server's replies (a 354 starts the message body, the lone dot ends it) and, in command
/// mode, rewrites the one RFC 5321 command the parser cannot read:
/// <c>RCPT TO:&lt;postmaster&gt;</c> without a domain (§4.1.1.3), which must be accepted.
/// Message content passes through untouched.
/// </summary>
sealed class SmtpInputFilter(Stream inner, string postmasterDomain) : Stream
{
    // RFC 5321 §4.5.3.1.4: 512 octets per command line; anything longer passes through for the parser to refuse.
    const int MaxCommandLine = 4096;
    static readonly byte[] BarePostmaster = "RCPT TO:<POSTMASTER>"u8.ToArray();

    readonly byte[] _readBuffer = new byte[16 * 1024];
    readonly MemoryStream _line = new();
    readonly MemoryStream _ready = new();
    int _readyOffset;
    bool _inData;
    int _dataState; // progress through CR LF '.' CR LF: the count of terminator bytes matched

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (TakeReady(buffer.Span) is var taken and > 0)
                return taken;
            var read = await inner.ReadAsync(_readBuffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
                return Flush(buffer.Span);
            Filter(_readBuffer.AsSpan(0, read));
        }
    }

    public override int Read(Span<byte> buffer)
    {
        while (true)
        {
            if (TakeReady(buffer) is var taken and > 0)
                return taken;
            var read = inner.Read(_readBuffer);
            if (read == 0)
                return Flush(buffer);
            Filter(_readBuffer.AsSpan(0, read));
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObserveReply(buffer.Span);
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObserveReply(buffer);
        inner.Write(buffer);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

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

    /// <summary>A 354 means the client now sends the message: pass it through until CRLF.CRLF.</summary>
    void ObserveReply(ReadOnlySpan<byte> reply)
    {
        // Pipelined replies may share one write; 354 is always the last of them.
        if (reply.StartsWith("354"u8) || reply.IndexOf("\n354"u8) >= 0)
        {
            _inData = true;
            _dataState = 2; // the DATA command's own CRLF starts the first line
        }
    }

    void Filter(ReadOnlySpan<byte> input)
    {
        while (input.Length > 0)
        {
            if (_inData)
            {
                var end = EndOfData(input);
                Emit(input[..end]);
                input = input[end..];
                continue;
            }
            var newline = input.IndexOf((byte)'\n');
            if (newline < 0)
            {
                _line.Write(input);
                if (_line.Length > MaxCommandLine)
                    EmitLine();
                return;
            }
            _line.Write(input[..(newline + 1)]);
            input = input[(newline + 1)..];
            EmitLine();
        }
    }

    /// <summary>How much of <paramref name="input"/> belongs to the message, up to and including its terminator.</summary>
    int EndOfData(ReadOnlySpan<byte> input)
    {
        for (var i = 0; i < input.Length; i++)
        {
            var b = input[i];
            _dataState = (_dataState, b) switch
            {
                (0 or 1 or 3 or 4, (byte)'\r') => _dataState == 3 ? 4 : 1,
                (1 or 4, (byte)'\n') => _dataState == 4 ? 5 : 2,
                (2, (byte)'.') => 3,
                (2, (byte)'\r') => 1,
                _ => 0,
            };
            if (_dataState == 5)
            {
                _inData = false;
                _dataState = 0;
                return i + 1;
            }
        }
        return input.Length;
    }

    void EmitLine()
    {
        var line = _line.GetBuffer().AsSpan(0, (int)_line.Length);
        var command = line.TrimEnd("\r\n"u8);
        if (command.Length >= BarePostmaster.Length && Ascii.EqualsIgnoreCase(command[..BarePostmaster.Length], BarePostmaster))
        {
            // "RCPT TO:<postmaster>" + optional parameters + line end
            Emit("RCPT TO:<postmaster@"u8);
            Emit(Encoding.ASCII.GetBytes(postmasterDomain));
            Emit(">"u8);
            Emit(line[BarePostmaster.Length..]);
        }
        else
        {
            Emit(line);
        }
        _line.SetLength(0);
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

    /// <summary>At end of stream, a partial last line still goes to the parser.</summary>
    int Flush(Span<byte> destination)
    {
        if (_line.Length > 0)
            EmitLine();
        return TakeReady(destination);
    }
}
