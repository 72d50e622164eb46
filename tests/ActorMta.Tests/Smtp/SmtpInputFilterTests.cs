using System.Text;
using ActorMta.Edge;

namespace ActorMta.Tests.Smtp;

/// <summary>
/// What SmtpServer's parser receives from a client: a bare <c>RCPT TO:&lt;postmaster&gt;</c>
/// (RFC 5321 §4.1.1.3) becomes the postmaster of the first local domain, and nothing in a
/// message body is touched. The filter follows the session by the server's replies.
/// </summary>
public sealed class SmtpInputFilterTests : IDisposable
{
    readonly ClientConnection _connection = new();
    readonly SmtpInputFilter _filter;

    public SmtpInputFilterTests() => _filter = new SmtpInputFilter(_connection, "example.test");

    public void Dispose() => _filter.Dispose();

    /// <summary>The client sends; returns what the parser reads.</summary>
    string Client(params string[] chunks)
    {
        foreach (var chunk in chunks)
            _connection.Incoming.Enqueue(Encoding.ASCII.GetBytes(chunk));
        var parsed = new MemoryStream();
        var buffer = new byte[7]; // small, so lines cross read boundaries
        int read;
        while ((read = _filter.Read(buffer, 0, buffer.Length)) > 0)
            parsed.Write(buffer, 0, read);
        return Encoding.ASCII.GetString(parsed.ToArray());
    }

    void Server(string reply) => _filter.Write(Encoding.ASCII.GetBytes(reply));

    void EnterData()
    {
        Assert.Equal("DATA\r\n", Client("DATA\r\n"));
        Server("354 End data with <CR><LF>.<CR><LF>\r\n");
    }

    [Theory]
    [InlineData("RCPT TO:<postmaster>\r\n", "RCPT TO:<postmaster@example.test>\r\n")]
    [InlineData("rcpt to:<PostMaster>\r\n", "RCPT TO:<postmaster@example.test>\r\n")]
    [InlineData("RCPT TO:<postmaster> NOTIFY=NEVER\r\n", "RCPT TO:<postmaster@example.test> NOTIFY=NEVER\r\n")]
    public void bare_postmaster_recipient_is_rewritten_to_the_postmaster_of_the_first_local_domain(string command, string parsed)
    {
        Assert.Equal(parsed, Client(command));
    }

    [Fact]
    public void bare_postmaster_recipient_is_rewritten_when_it_arrives_in_pieces()
    {
        Assert.Equal("RCPT TO:<postmaster@example.test>\r\n", Client("RCPT T", "O:<postm", "aster>", "\r\n"));
    }

    [Theory]
    [InlineData("RCPT TO:<postmaster@other.test>\r\n")]
    [InlineData("RCPT TO:<alice>\r\n")]
    [InlineData("MAIL FROM:<postmaster>\r\n")]
    [InlineData("RCPT TO:<alice@example.test>\r\n")]
    [InlineData("NOOP RCPT TO:<postmaster>\r\n")]
    public void other_commands_reach_the_parser_unchanged(string command)
    {
        // A bare local part other than postmaster stays bare, for the parser to refuse.
        Assert.Equal(command, Client(command));
    }

    [Fact]
    public void the_same_text_inside_a_message_body_is_not_rewritten()
    {
        Client("MAIL FROM:<sender@foreign.test>\r\n");
        Server("250 2.1.0 Ok\r\n");
        EnterData();

        const string body = "Subject: hi\r\n\r\nRCPT TO:<postmaster>\r\nrcpt to:<postmaster>\r\n";
        Assert.Equal(body, Client(body));
    }

    [Fact]
    public void crlf_dot_crlf_ends_the_message_and_commands_are_rewritten_again()
    {
        EnterData();

        Assert.Equal("RCPT TO:<postmaster>\r\n.\r\n", Client("RCPT TO:<postmaster>\r\n.\r\n"));
        Server("250 2.0.0 Ok: queued as 01JNQ0000000ABCD\r\n");

        Assert.Equal("RCPT TO:<postmaster@example.test>\r\n", Client("RCPT TO:<postmaster>\r\n"));
    }

    [Fact]
    public void a_message_ends_even_when_its_terminator_arrives_split_over_reads()
    {
        EnterData();

        Assert.Equal("body\r\n.\r\nRCPT TO:<postmaster@example.test>\r\n", Client("body\r", "\n.", "\r", "\nRCPT TO:<postmaster>\r\n"));
    }

    [Fact]
    public void an_empty_message_ends_at_its_first_line()
    {
        EnterData();

        Assert.Equal(".\r\nRCPT TO:<postmaster@example.test>\r\n", Client(".\r\nRCPT TO:<postmaster>\r\n"));
    }

    [Theory]
    [InlineData("body\n.\nRCPT TO:<postmaster>\r\n")]
    [InlineData("body\r\n.\nRCPT TO:<postmaster>\r\n")]
    [InlineData("body\n.\r\nRCPT TO:<postmaster>\r\n")]
    [InlineData("body\r\n..\r\nRCPT TO:<postmaster>\r\n")]
    [InlineData("body\r\n. \r\nRCPT TO:<postmaster>\r\n")]
    public void a_dot_line_that_is_not_crlf_dot_crlf_does_not_end_the_message(string content)
    {
        EnterData();

        Assert.Equal(content, Client(content));
        // Still in the message: the end comes only with CRLF.CRLF.
        Assert.Equal("RCPT TO:<postmaster>\r\n.\r\n", Client("RCPT TO:<postmaster>\r\n.\r\n"));
        Assert.Equal("RCPT TO:<postmaster@example.test>\r\n", Client("RCPT TO:<postmaster>\r\n"));
    }

    [Fact]
    public void a_354_among_pipelined_replies_starts_the_message()
    {
        Client("MAIL FROM:<sender@foreign.test>\r\nRCPT TO:<postmaster>\r\nDATA\r\n");
        Server("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");

        Assert.Equal("RCPT TO:<postmaster>\r\n", Client("RCPT TO:<postmaster>\r\n"));
    }

    [Fact]
    public void replies_other_than_354_leave_command_mode_alone()
    {
        Client("DATA\r\n");
        Server("554 5.5.1 Error: no valid recipients\r\n");

        Assert.Equal("RCPT TO:<postmaster@example.test>\r\n", Client("RCPT TO:<postmaster>\r\n"));
    }

    [Fact]
    public void server_replies_reach_the_client_unchanged()
    {
        Server("354 End data with <CR><LF>.<CR><LF>\r\n");

        Assert.Equal("354 End data with <CR><LF>.<CR><LF>\r\n", Encoding.ASCII.GetString(_connection.Outgoing.ToArray()));
    }

    [Fact]
    public void a_last_line_without_line_end_still_reaches_the_parser()
    {
        Assert.Equal("QUIT", Client("QUIT"));
    }

    /// <summary>The socket: what the client sent, in the pieces it arrived in, and what the server wrote.</summary>
    sealed class ClientConnection : Stream
    {
        public Queue<byte[]> Incoming { get; } = new();

        public MemoryStream Outgoing { get; } = new();

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>One arrival per read; nothing more arrived reads as 0.</summary>
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (!Incoming.TryDequeue(out var chunk))
                return 0;
            Assert.True(chunk.Length <= count, "test chunk larger than the filter's read buffer");
            chunk.CopyTo(buffer, offset);
            return chunk.Length;
        }

        public override void Write(byte[] buffer, int offset, int count) => Outgoing.Write(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
