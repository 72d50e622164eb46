using System.Text;
using ActorMta.Tests.Support;

namespace ActorMta.Tests.Edge;

public sealed class LimitedServer : IAsyncLifetime
{
    public MtaServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await MtaServer.StartAsync("""
        actormta.smtp {
          trusted-networks = []
          max-message-size = 20000
          max-command-line = 600
          max-messages-per-connection = 2
          max-connections-per-client = 3
          max-errors = 5
        }
        """);

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

/// <summary>Each limit answers with its own code, and the server goes on serving.</summary>
public sealed class LimitTests(LimitedServer fixture) : IClassFixture<LimitedServer>
{
    MtaServer Server => fixture.Server;

    [Fact]
    public async Task a_message_over_the_size_limit_without_a_declared_size_is_refused_with_552_5_3_4_after_the_dot()
    {
        await using var smtp = await OpenInTransaction();
        var line = new string('x', 98) + "\r\n";

        var reply = await smtp.SendAsync("Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(line, 400)) + ".");

        Assert.StartsWith("552 5.3.4", reply, StringComparison.Ordinal);
        await SendsAMessage(smtp);
    }

    [Fact]
    public async Task a_message_of_exactly_the_size_limit_is_accepted()
    {
        await using var smtp = await OpenInTransaction();
        var head = "Subject: exact\r\n\r\n";
        var line = new string('x', 98) + "\r\n";
        var lines = (20000 - head.Length) / line.Length;
        var last = new string('y', 20000 - head.Length - lines * line.Length - 2) + "\r\n";

        var reply = await smtp.SendAsync(head + string.Concat(Enumerable.Repeat(line, lines)) + last + ".");

        Assert.StartsWith("250", reply, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_command_line_over_the_limit_is_refused_with_500_5_5_2_in_its_place_among_pipelined_commands()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.example.org");

        await smtp.WriteAsync("NOOP\r\nNOOP " + new string('x', 700) + "\r\nRSET\r\n");

        Assert.StartsWith("250", await smtp.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("500 5.5.2", await smtp.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("250", await smtp.ReadReplyAsync(), StringComparison.Ordinal);
        await SendsAMessage(smtp);
    }

    [Fact]
    public async Task a_text_line_over_998_characters_is_refused_with_554_5_6_0()
    {
        await using var smtp = await OpenInTransaction();

        var reply = await smtp.SendAsync("Subject: long\r\n\r\n" + new string('x', 999) + "\r\n.");

        Assert.StartsWith("554 5.6.0", reply, StringComparison.Ordinal);
        await SendsAMessage(smtp, body: new string('x', 998));
    }

    [Fact]
    public async Task a_transaction_beyond_the_per_connection_limit_gets_421_4_7_0_and_the_connection_closes()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.example.org");
        await SendsAMessage(smtp);
        Assert.StartsWith("250", await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>"), StringComparison.Ordinal);
        await smtp.SendAsync("RSET");

        Assert.StartsWith("421 4.7.0", await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>"), StringComparison.Ordinal);
        Assert.True(await smtp.ClosedByServerAsync());
        await using var next = await SmtpDialog.OpenAsync(Server.Port);
        await next.SendAsync("EHLO client.example.org");
        await SendsAMessage(next);
    }

    [Fact]
    public async Task a_client_over_its_connection_limit_is_greeted_with_421_4_7_0_and_served_again_once_one_closes()
    {
        var open = new List<SmtpDialog>();
        for (var i = 0; i < 3; i++)
            open.Add(await SmtpDialog.OpenAsync(Server.Port));
        Assert.All(open, d => Assert.StartsWith("220", d.Greeting, StringComparison.Ordinal));

        await using (var refused = await SmtpDialog.OpenAsync(Server.Port))
        {
            Assert.StartsWith("421 4.7.0", refused.Greeting, StringComparison.Ordinal);
            Assert.True(await refused.ClosedByServerAsync());
        }

        await open[0].DisposeAsync();
        var greeting = await Eventually.GetAsync(async () =>
        {
            await using var again = await SmtpDialog.OpenAsync(Server.Port);
            return again.Greeting;
        }, g => g.StartsWith("220", StringComparison.Ordinal));
        Assert.StartsWith("220", greeting, StringComparison.Ordinal);
        foreach (var dialog in open.Skip(1))
            await dialog.DisposeAsync();
    }

    [Fact]
    public async Task after_too_many_errors_the_client_is_told_421_4_7_0_and_disconnected()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.example.org");
        for (var i = 0; i < 4; i++)
            Assert.StartsWith("5", await smtp.SendAsync("BOGUS"), StringComparison.Ordinal);

        Assert.StartsWith("5", await smtp.SendAsync("BOGUS"), StringComparison.Ordinal);

        Assert.StartsWith("421 4.7.0", await smtp.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.True(await smtp.ClosedByServerAsync());
        await using var next = await SmtpDialog.OpenAsync(Server.Port);
        await next.SendAsync("EHLO client.example.org");
        await SendsAMessage(next);
    }

    [Fact]
    public async Task a_delivered_message_starts_the_error_count_again()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.example.org");
        await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>");
        for (var i = 0; i < 4; i++)
            Assert.StartsWith("550 5.1.1", await smtp.SendAsync($"RCPT TO:<nobody{i}@example.test>"), StringComparison.Ordinal);
        await smtp.SendAsync("RCPT TO:<admin@example.test>");
        await smtp.SendAsync("DATA");
        Assert.StartsWith("250", await smtp.SendAsync("Subject: x\r\n\r\ny\r\n."), StringComparison.Ordinal);

        for (var i = 0; i < 4; i++)
            Assert.StartsWith("5", await smtp.SendAsync("BOGUS"), StringComparison.Ordinal);

        Assert.StartsWith("250", await smtp.SendAsync("NOOP"), StringComparison.Ordinal);
    }

    async Task<SmtpDialog> OpenInTransaction()
    {
        var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.example.org");
        Assert.StartsWith("250", await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>"), StringComparison.Ordinal);
        Assert.StartsWith("250", await smtp.SendAsync("RCPT TO:<admin@example.test>"), StringComparison.Ordinal);
        Assert.StartsWith("354", await smtp.SendAsync("DATA"), StringComparison.Ordinal);
        return smtp;
    }

    internal static async Task SendsAMessage(SmtpDialog smtp, string body = "fine")
    {
        Assert.StartsWith("250", await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>"), StringComparison.Ordinal);
        Assert.StartsWith("250", await smtp.SendAsync("RCPT TO:<admin@example.test>"), StringComparison.Ordinal);
        Assert.StartsWith("354", await smtp.SendAsync("DATA"), StringComparison.Ordinal);
        Assert.StartsWith("250 2.0.0 Ok: queued as", await smtp.SendAsync($"Subject: normal\r\n\r\n{body}\r\n."), StringComparison.Ordinal);
    }
}

public sealed class ImpatientServer : IAsyncLifetime
{
    public MtaServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await MtaServer.StartAsync("""
        actormta.smtp {
          command-timeout = 1s
          data-timeout = 1s
          max-connections = 2
          max-connections-per-client = 1
        }
        """);

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

/// <summary>Slow and greedy clients: timeouts and the total connection limit.</summary>
public sealed class TimeoutAndConnectionLimitTests(ImpatientServer fixture) : IClassFixture<ImpatientServer>
{
    MtaServer Server => fixture.Server;

    [Fact]
    public async Task a_silent_client_is_told_421_after_the_command_timeout()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);

        Assert.StartsWith("421", await smtp.ReadReplyAsync(TimeSpan.FromSeconds(20)), StringComparison.Ordinal);
        Assert.True(await smtp.ClosedByServerAsync());
    }

    [Fact]
    public async Task a_command_sent_a_byte_at_a_time_is_cut_off_at_the_command_timeout()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        var started = DateTime.UtcNow;

        // Slowloris: every byte resets an idle timer, but not the command timeout.
        var reply = Task.Run(() => smtp.ReadReplyAsync(TimeSpan.FromSeconds(20)));
        foreach (var b in Encoding.ASCII.GetBytes("NOOP and some more text\r\n"))
        {
            if (reply.IsCompleted)
                break;
            try
            {
                await smtp.WriteAsync([b]);
            }
            catch (IOException)
            {
                break;
            }
            await Task.WhenAny(reply, Task.Delay(200));
        }

        Assert.StartsWith("421", await reply, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task a_client_silent_in_the_middle_of_a_message_is_told_421_4_4_2()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.example.org");
        await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>");
        await smtp.SendAsync("RCPT TO:<admin@example.test>");
        Assert.StartsWith("354", await smtp.SendAsync("DATA"), StringComparison.Ordinal);

        await smtp.WriteAsync("Subject: half a message\r\n\r\nand then");

        Assert.StartsWith("421 4.4.2", await smtp.ReadReplyAsync(TimeSpan.FromSeconds(20)), StringComparison.Ordinal);
        Assert.True(await smtp.ClosedByServerAsync());
    }

    [Fact]
    public async Task trusted_clients_pass_the_per_client_limit_but_not_the_total_which_answers_421_4_3_2()
    {
        // The limit is 1 per client, but 127.0.0.1 is trusted by default; the total is 2.
        await using var first = await SmtpDialog.OpenAsync(Server.Port);
        await using var second = await SmtpDialog.OpenAsync(Server.Port);
        Assert.StartsWith("220", first.Greeting, StringComparison.Ordinal);
        Assert.StartsWith("220", second.Greeting, StringComparison.Ordinal);

        await using var third = await SmtpDialog.OpenAsync(Server.Port);

        Assert.StartsWith("421 4.3.2", third.Greeting, StringComparison.Ordinal);
        Assert.True(await third.ClosedByServerAsync());
        await first.SendAsync("EHLO client.example.org");
        await LimitTests.SendsAMessage(first);
    }
}
