using ActorMta.Tests.Support;

namespace ActorMta.Tests.Edge;

/// <summary>
/// SMTP smuggling: only CRLF.CRLF ends a message. Every other spelling of an end of data is
/// content, and content with a bare CR or LF is refused whole, so no second message can hide
/// inside the first, here or at a next hop.
/// </summary>
public sealed class SmugglingTests(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    MtaServer Server => fixture.Server;

    [Theory]
    [InlineData("\n.\n")]
    [InlineData("\r.\r")]
    [InlineData("\n.\r\n")]
    [InlineData("\r\n.\r")]
    [InlineData("\r.\r\n")]
    [InlineData("\n..\n")]
    public async Task a_bare_line_end_around_the_dot_does_not_end_data_or_smuggle_a_second_message(string fakeEnd)
    {
        var smuggled = Guid.NewGuid().ToString();
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.example.org");
        await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>");
        await smtp.SendAsync("RCPT TO:<admin@example.test>");
        Assert.StartsWith("354", await smtp.SendAsync("DATA"), StringComparison.Ordinal);

        await smtp.WriteAsync(
            "Subject: first\r\n\r\nhello" + fakeEnd +
            "MAIL FROM:<sender@elsewhere.test>\r\nRCPT TO:<admin@example.test>\r\nDATA\r\n" +
            $"Subject: {smuggled}\r\n\r\nsmuggled\r\n.\r\n");

        // One reply for the one message, and it refuses it; nothing else is waiting to be read.
        Assert.StartsWith("554 5.6.0", await smtp.ReadReplyAsync(), StringComparison.Ordinal);
        Assert.StartsWith("250", await smtp.SendAsync("NOOP"), StringComparison.Ordinal);
        await SendNormalMessage(smtp);
        Assert.DoesNotContain(Server.DeliveredFiles("admin@example.test"), f => File.ReadAllText(f).Contains(smuggled, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("a bare\nLF")]
    [InlineData("a bare\rCR")]
    [InlineData("ends in a bare CR\r")]
    public async Task a_bare_cr_or_lf_anywhere_in_the_message_is_refused_with_554_5_6_0(string line)
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.example.org");
        await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>");
        await smtp.SendAsync("RCPT TO:<admin@example.test>");
        await smtp.SendAsync("DATA");

        var reply = await smtp.SendAsync($"Subject: bare\r\n\r\n{line}\r\n.");

        Assert.StartsWith("554 5.6.0", reply, StringComparison.Ordinal);
        await SendNormalMessage(smtp);
    }

    [Fact]
    public async Task a_first_line_of_a_single_dot_ends_an_empty_message()
    {
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.example.org");
        await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>");
        await smtp.SendAsync("RCPT TO:<admin@example.test>");
        await smtp.SendAsync("DATA");

        Assert.StartsWith("250 2.0.0 Ok: queued as", await smtp.SendAsync("."), StringComparison.Ordinal);
    }

    [Fact]
    public async Task dot_stuffing_is_removed_from_the_first_line_as_from_any_other()
    {
        var marker = Guid.NewGuid().ToString();
        await using var smtp = await SmtpDialog.OpenAsync(Server.Port);
        await smtp.SendAsync("EHLO client.example.org");
        await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>");
        await smtp.SendAsync("RCPT TO:<admin@example.test>");
        await smtp.SendAsync("DATA");

        Assert.StartsWith("250", await smtp.SendAsync($"..{marker}\r\n..second\r\n."), StringComparison.Ordinal);

        var files = await Eventually.Get(() => Server.DeliveredFiles("admin@example.test"), f => f.Any(x => File.ReadAllText(x).Contains(marker, StringComparison.Ordinal)));
        var delivered = File.ReadAllText(files.Single(x => File.ReadAllText(x).Contains(marker, StringComparison.Ordinal)));
        Assert.EndsWith($"\n.{marker}\n.second\n", delivered, StringComparison.Ordinal);
    }

    static async Task SendNormalMessage(SmtpDialog smtp)
    {
        Assert.StartsWith("250", await smtp.SendAsync("MAIL FROM:<sender@elsewhere.test>"), StringComparison.Ordinal);
        Assert.StartsWith("250", await smtp.SendAsync("RCPT TO:<admin@example.test>"), StringComparison.Ordinal);
        Assert.StartsWith("354", await smtp.SendAsync("DATA"), StringComparison.Ordinal);
        Assert.StartsWith("250 2.0.0 Ok: queued as", await smtp.SendAsync("Subject: normal\r\n\r\nfine\r\n."), StringComparison.Ordinal);
    }
}
