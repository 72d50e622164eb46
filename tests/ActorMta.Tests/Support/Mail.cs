using MailKit.Net.Smtp;
using MimeKit;

namespace ActorMta.Tests.Support;

/// <summary>Submits test messages with MailKit, as a mail client on loopback would.</summary>
public static class Mail
{
    public static MimeMessage Message(string from, IEnumerable<string> to, string subject)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        foreach (var address in to)
            message.To.Add(MailboxAddress.Parse(address));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "Hello.\r\n" };
        return message;
    }

    /// <returns>The queue id from the 250 reply.</returns>
    public static async Task<string> SendAsync(int port, MimeMessage message)
    {
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, MailKit.Security.SecureSocketOptions.None);
        var reply = await client.SendAsync(message);
        await client.DisconnectAsync(true);
        return reply.Split("queued as ")[1].Trim();
    }

    public static Task<string> SendAsync(int port, string from, string to, string subject) =>
        SendAsync(port, Message(from, [to], subject));
}
