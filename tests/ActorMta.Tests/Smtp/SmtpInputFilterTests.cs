using System.Text;
using ActorMta.Edge;

namespace ActorMta.Tests.Smtp;

/// <summary>
/// What SmtpServer's parser receives from a client: a bare <c>RCPT TO:&lt;postmaster&gt;</c>
/// (RFC 5321 §4.1.1.3) becomes the postmaster of the first local domain, and nothing in a
/// message body is touched (it follows a CRLF the filter inserts, which the store removes).
/// The filter follows the session by the server's replies.
/// </summary>
public sealed class SmtpInputFilterTests : IDisposable
{
    static readonly WireOptions Options = new("mail.example.test", "example.test", MaxCommandLine: 600, MaxMessageSize: 100, MaxErrors: 3,
        CommandTimeout: TimeSpan.FromMinutes(5), DataTimeout: TimeSpan.FromMinutes(3));

    readonly ClientConnection _connection = new();
    SmtpInputFilter _filter;

    public SmtpInputFilterTests() => _filter = Filter(admission: null);

    SmtpInputFilter Filter(string? admission) =>
        new(_connection, Options, new ConnectionState(Task.FromResult(admission), () => { }, _ => { }));

    string Sent => Encoding.ASCII.GetString(_connection.Outgoing.ToArray());

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
        Assert.Equal("\r\n" + body, Client(body));
    }

    [Fact]
    public void crlf_dot_crlf_ends_the_message_and_commands_are_rewritten_again()
    {
        EnterData();

        Assert.Equal("\r\nRCPT TO:<postmaster>\r\n.\r\n", Client("RCPT TO:<postmaster>\r\n.\r\n"));
        Server("250 2.0.0 Ok: queued as 01JNQ0000000ABCD\r\n");

        Assert.Equal("RCPT TO:<postmaster@example.test>\r\n", Client("RCPT TO:<postmaster>\r\n"));
    }

    [Fact]
    public void a_message_ends_even_when_its_terminator_arrives_split_over_reads()
    {
        EnterData();

        Assert.Equal("\r\nbody\r\n.\r\nRCPT TO:<postmaster@example.test>\r\n", Client("body\r", "\n.", "\r", "\nRCPT TO:<postmaster>\r\n"));
    }

    [Fact]
    public void an_empty_message_ends_at_its_first_line()
    {
        EnterData();

        // With the inserted CRLF the parser sees CRLF.CRLF, as RFC 5321 §4.1.1.4 means it.
        Assert.Equal("\r\n.\r\nRCPT TO:<postmaster@example.test>\r\n", Client(".\r\nRCPT TO:<postmaster>\r\n"));
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

        Assert.Equal("\r\n" + content, Client(content));
        // Still in the message: the end comes only with CRLF.CRLF.
        Assert.Equal("RCPT TO:<postmaster>\r\n.\r\n", Client("RCPT TO:<postmaster>\r\n.\r\n"));
        Assert.Equal("RCPT TO:<postmaster@example.test>\r\n", Client("RCPT TO:<postmaster>\r\n"));
    }

    [Fact]
    public void a_354_among_pipelined_replies_starts_the_message()
    {
        Client("MAIL FROM:<sender@foreign.test>\r\nRCPT TO:<postmaster>\r\nDATA\r\n");
        Server("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");

        Assert.Equal("\r\nRCPT TO:<postmaster>\r\n", Client("RCPT TO:<postmaster>\r\n"));
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

        Assert.Equal("354 End data with <CR><LF>.<CR><LF>\r\n", Sent);
    }

    [Fact]
    public void a_last_line_without_line_end_is_not_a_command()
    {
        Assert.Equal("", Client("QUIT"));
    }

    [Fact]
    public void a_command_line_ended_by_a_bare_lf_gets_its_cr()
    {
        Assert.Equal("NOOP\r\nRSET\r\n", Client("NOOP\nRSET\r\n"));
    }

    [Fact]
    public void an_over_long_command_line_is_dropped_and_answered_500()
    {
        Assert.Equal("NOOP\r\nRSET\r\n", Client("NOOP\r\n", "MAIL FROM:<" + new string('a', 3000), new string('a', 3000) + ">\r\nRSET\r\n"));

        Assert.Equal("500 5.5.2 Error: command line too long\r\n", Sent);
    }

    [Fact]
    public void past_the_size_limit_the_rest_of_a_message_is_dropped_and_its_end_supplied()
    {
        EnterData();

        // 100 octets plus room for the terminator pass; then the terminator completes what passed.
        Assert.Equal("\r\n" + new string('x', 105) + "\r\n.\r\n", Client(new string('x', 300) + "\r\n" + new string('y', 300) + "\r\n.\r\n"));
        Server("552 5.3.4 Error: message file too big\r\n");
        Assert.Equal("RCPT TO:<postmaster@example.test>\r\n", Client("RCPT TO:<postmaster>\r\n"));
    }

    [Fact]
    public void at_the_error_limit_the_client_is_told_421_and_nothing_more_is_read()
    {
        for (var i = 0; i < 3; i++)
            Server("500 5.5.2 Error: bad syntax\r\n");

        Assert.EndsWith("421 4.7.0 mail.example.test Error: too many errors\r\n", Sent, StringComparison.Ordinal);
        Assert.Equal("", Client("NOOP\r\n"));
        Server("250 Ok\r\n");
        Assert.EndsWith("too many errors\r\n", Sent, StringComparison.Ordinal);
    }

    [Fact]
    public void a_refused_connection_gets_the_refusal_for_a_greeting_and_503_to_all_but_quit()
    {
        _filter.Dispose();
        _filter = Filter("554 5.7.1 Service unavailable; client [192.0.2.1] blocked using dnsbl.test");

        Server("220 mail.example.test ESMTP\r\n");
        Assert.Equal("", Client("EHLO client.test\r\n", "MAIL FROM:<a@b.test>\r\n", "QUIT\r\n"));

        Assert.Equal(
            "554 5.7.1 Service unavailable; client [192.0.2.1] blocked using dnsbl.test\r\n503 5.7.0 Error: access denied\r\n503 5.7.0 Error: access denied\r\n221 2.0.0 Bye\r\n",
            Sent);
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
