using ActorMta.Tests.Support;
using MailKit.Net.Smtp;
using MimeKit;

namespace ActorMta.Tests.Edge;

public sealed class DefaultServer : IAsyncLifetime
{
    public MtaServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await MtaServer.StartAsync("""
        actormta {
          local-domains = [ "example.test", "other.test" ]
          domains."other.test" {
            mailboxes = [ "carol", "dave" ]
            aliases { postmaster = "carol", abuse = "carol" }
          }
          smtp.max-message-size = 20000
          smtp.max-recipients = 5
          # The tests speak from 127.0.0.1 as an untrusted Internet client.
          smtp.trusted-networks = []
        }
        """);

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

/// <summary>The MX listener, spoken to by real clients over loopback.</summary>
public sealed class SmtpEdgeTests(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    MtaServer Server => fixture.Server;

    [Fact]
    public async Task greeting_names_the_host_and_not_the_software()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);

        Assert.Equal("220 mail.example.test ESMTP", smtp.Greeting);
    }

    [Fact]
    public async Task ehlo_advertises_size_with_the_configured_limit_pipelining_and_8bitmime()
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", Server.Port, MailKit.Security.SecureSocketOptions.None);

        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Size));
        Assert.Equal(20000u, client.MaxSize);
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.Pipelining));
        Assert.True(client.Capabilities.HasFlag(SmtpCapabilities.EightBitMime));
        await client.DisconnectAsync(true);
    }

    [Fact]
    public async Task unknown_local_recipient_is_refused_with_550_5_1_1_at_rcpt()
    {
        var error = await Assert.ThrowsAsync<SmtpCommandException>(() => Send(Message("nobody@example.test")));

        Assert.Equal(SmtpErrorCode.RecipientNotAccepted, error.ErrorCode);
        Assert.Equal(550, (int)error.StatusCode);
        Assert.StartsWith("5.1.1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task foreign_recipient_from_an_untrusted_client_is_refused_as_relaying_with_550_5_7_1()
    {
        var error = await Assert.ThrowsAsync<SmtpCommandException>(() => Send(Message("someone@elsewhere.test")));

        Assert.Equal(550, (int)error.StatusCode);
        Assert.StartsWith("5.7.1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<admin%elsewhere.test@example.test>")]
    [InlineData("<elsewhere.test!admin@example.test>")]
    [InlineData("<@example.test:admin@elsewhere.test>")]
    [InlineData("<\"admin@elsewhere.test\"@example.test>")]
    [InlineData("<admin@[127.0.0.1]>")]
    [InlineData("<admin@elsewhere.test.>")]
    [InlineData("<ADMIN@ELSEWHERE.TEST>")]
    public async Task address_tricks_do_not_open_a_relay(string recipient)
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.test");
        Assert.StartsWith("250", await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>"), StringComparison.Ordinal);

        var reply = await smtp.SendAsync($"RCPT TO:{recipient}");

        Assert.StartsWith("5", reply, StringComparison.Ordinal);
        Assert.StartsWith("5", await smtp.SendAsync("DATA"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task local_domain_matches_without_regard_to_case_or_a_trailing_dot()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.test");
        await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>");

        Assert.StartsWith("250", await smtp.SendAsync("RCPT TO:<Carol@OTHER.Test>"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task postmaster_is_accepted_and_delivered_to_the_mailbox_it_aliases()
    {
        var subject = Guid.NewGuid().ToString();

        await Send(Message("postmaster@other.test", subject));

        var files = await Eventually.Get(() => Server.DeliveredFiles("carol@other.test"), f => f.Any(x => File.ReadAllText(x).Contains(subject, StringComparison.Ordinal)));
        var delivered = files.Select(File.ReadAllText).Single(t => t.Contains(subject, StringComparison.Ordinal));
        Assert.StartsWith("Return-Path: <sender@elsewhere.test>\nDelivered-To: carol@other.test\nX-Original-To: postmaster@other.test\nReceived: from ", delivered, StringComparison.Ordinal);
        Assert.Contains("by mail.example.test (ActorMta) with ESMTP id ", delivered, StringComparison.Ordinal);
    }

    [Fact]
    public async Task bare_postmaster_without_a_domain_is_accepted()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.test");
        await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>");

        Assert.StartsWith("250", await smtp.SendAsync("RCPT TO:<postmaster>"), StringComparison.Ordinal);
        Assert.StartsWith("5", await smtp.SendAsync("RCPT TO:<admin>"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task message_content_that_looks_like_a_command_is_delivered_unchanged()
    {
        var marker = Guid.NewGuid().ToString();
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.test");
        // Pipelined, as RFC 2920 allows: MAIL, RCPT and DATA in one write.
        await smtp.WriteAsync("MAIL FROM:<sender@elsewhere.test>\r\nRCPT TO:<postmaster>\r\nDATA\r\n");
        Assert.StartsWith("250", await smtp.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("250", await smtp.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("354", await smtp.ReadReplyAsync(), StringComparison.Ordinal);

        var reply = await smtp.SendAsync($"Subject: {marker}\r\n\r\nRCPT TO:<postmaster>\r\n..leading dot\r\n.");

        Assert.StartsWith("250 2.0.0 Ok: queued as", reply, StringComparison.Ordinal);
        var files = await Eventually.Get(() => Server.DeliveredFiles("admin@example.test"), f => f.Any(x => File.ReadAllText(x).Contains(marker, StringComparison.Ordinal)));
        var delivered = files.Select(File.ReadAllText).Single(t => t.Contains(marker, StringComparison.Ordinal));
        Assert.EndsWith($"Subject: {marker}\n\nRCPT TO:<postmaster>\n.leading dot\n", delivered, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_message_with_one_unknown_recipient_reaches_the_others()
    {
        var subject = Guid.NewGuid().ToString();
        var message = Message("carol@other.test", subject);
        message.To.Add(MailboxAddress.Parse("nobody@other.test"));
        message.To.Add(MailboxAddress.Parse("dave@other.test"));
        using var client = new TolerantSmtpClient();
        await client.ConnectAsync("127.0.0.1", Server.Port, MailKit.Security.SecureSocketOptions.None);

        var reply = await client.SendAsync(message);

        Assert.Equal(["nobody@other.test"], client.Rejected);
        Assert.Contains("queued as", reply, StringComparison.Ordinal);
        foreach (var mailbox in new[] { "carol@other.test", "dave@other.test" })
        {
            var files = await Eventually.Get(() => Server.DeliveredFiles(mailbox), f => f.Any(x => File.ReadAllText(x).Contains(subject, StringComparison.Ordinal)));
            Assert.Single(files, x => File.ReadAllText(x).Contains(subject, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task two_recipients_that_reach_one_mailbox_deliver_one_copy()
    {
        var subject = Guid.NewGuid().ToString();
        var message = Message("abuse@example.test", subject);
        message.To.Add(MailboxAddress.Parse("admin@example.test"));

        await Send(message);

        var files = await Eventually.Get(() => Server.DeliveredFiles("admin@example.test"), f => f.Any(x => File.ReadAllText(x).Contains(subject, StringComparison.Ordinal)));
        Assert.Single(files, x => File.ReadAllText(x).Contains(subject, StringComparison.Ordinal));
    }

    [Fact]
    public async Task a_declared_size_over_the_limit_is_refused_with_552_at_mail()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.test");

        var reply = await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test> SIZE=20001");

        Assert.StartsWith("552 ", reply, StringComparison.Ordinal);
        Assert.StartsWith("250", await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test> SIZE=1000"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task recipients_beyond_the_limit_get_452_and_the_first_ones_stay_accepted()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.test");
        await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>");
        for (var i = 0; i < 5; i++)
            Assert.StartsWith("250", await smtp.SendAsync("RCPT TO:<admin@example.test>"), StringComparison.Ordinal);

        Assert.StartsWith("452 4.5.3", await smtp.SendAsync("RCPT TO:<admin@example.test>"), StringComparison.Ordinal);
        Assert.StartsWith("354", await smtp.SendAsync("DATA"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_250_reply_carries_the_queue_id_the_log_and_maildir_use()
    {
        var queueId = await Send(Message("admin@example.test"));

        Assert.Matches("^[0-9A-Z]{16}$", queueId);
        await Eventually.Get(() => Server.DeliveredFiles("admin@example.test"), f => f.Any(x => x.Contains(queueId, StringComparison.Ordinal)));
        Assert.Single(Server.DeliveredFiles("admin@example.test"), x => x.Contains(queueId, StringComparison.Ordinal));
    }

    static MimeMessage Message(string to, string? subject = null) => Mail.Message("sender@elsewhere.test", [to], subject ?? "test");

    Task<string> Send(MimeMessage message) => Mail.SendAsync(Server.Port, message);
}

/// <summary>Sends to the accepted recipients when some are refused, as an MTA does.</summary>
sealed class TolerantSmtpClient : SmtpClient
{
    public List<string> Rejected { get; } = [];

    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, MailKit.Net.Smtp.SmtpResponse response) =>
        Rejected.Add(mailbox.Address);
}
