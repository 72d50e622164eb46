using System.Net;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Net;

namespace ActorMta.Edge;

/// <summary>What the edge remembers about an SMTP session, kept in the session's property bag.</summary>
static class SessionFacts
{
    const string HeloKey = "actormta.helo";
    const string ExtendedKey = "actormta.esmtp";
    const string RecipientCountKey = "actormta.rcpt-count";

    public static IPEndPoint? Client(this ISessionContext context) =>
        context.Properties.TryGetValue(EndpointListener.RemoteEndPointKey, out var endpoint) ? endpoint as IPEndPoint : null;

    /// <summary>The client as Postfix logs it: <c>[address]:port</c>.</summary>
    public static string ClientText(this ISessionContext context) =>
        context.Client() is { } client ? $"[{client.Address}]:{client.Port}" : "unknown";

    public static string Helo(this ISessionContext context) =>
        context.Properties.TryGetValue(HeloKey, out var helo) ? (string)helo : "";

    public static bool UsedEhlo(this ISessionContext context) => context.Properties.ContainsKey(ExtendedKey);

    public static void RememberGreeting(this ISessionContext context, string helo, bool extended)
    {
        context.Properties[HeloKey] = helo;
        if (extended)
            context.Properties[ExtendedKey] = true;
        else
            context.Properties.Remove(ExtendedKey);
    }

    public static int RecipientCount(this ISessionContext context) =>
        context.Properties.TryGetValue(RecipientCountKey, out var count) ? (int)count : 0;

    public static void SetRecipientCount(this ISessionContext context, int count) => context.Properties[RecipientCountKey] = count;

    /// <summary>The envelope address as text; the null reverse-path (MAIL FROM:&lt;&gt;) is "".</summary>
    public static string Text(this IMailbox? mailbox) =>
        mailbox is null || string.IsNullOrEmpty(mailbox.User) ? "" : string.IsNullOrEmpty(mailbox.Host) ? mailbox.User : $"{mailbox.User}@{mailbox.Host}";
}
