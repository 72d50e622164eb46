using System.Net;
using ActorMta.Config;
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
    const string TransactionCountKey = "actormta.mail-count";
    const string ListenerKey = "actormta.listener";
    const string TrustedKey = "actormta.trusted";
    const string ConnectionKey = "actormta.connection";

    public static IPEndPoint? Client(this ISessionContext context) =>
        context.Properties.TryGetValue(EndpointListener.RemoteEndPointKey, out var endpoint) ? endpoint as IPEndPoint : null;

    /// <summary>This server's address on the connection.</summary>
    public static IPEndPoint? Local(this ISessionContext context) =>
        context.Properties.TryGetValue(EndpointListener.LocalEndPointKey, out var endpoint) ? endpoint as IPEndPoint : null;

    /// <summary>The client as Postfix logs it: <c>[address]:port</c>.</summary>
    public static string ClientText(this ISessionContext context) =>
        context.Client() is { } client ? $"[{client.Address}]:{client.Port}" : "unknown";

    public static void SetConnection(this ISessionContext context, EdgeListener listener, bool trusted, ConnectionState connection)
    {
        context.Properties[ListenerKey] = listener;
        context.Properties[TrustedKey] = trusted;
        context.Properties[ConnectionKey] = connection;
    }

    /// <summary>The listener the session came in on.</summary>
    public static EdgeListener Listener(this ISessionContext context) => (EdgeListener)context.Properties[ListenerKey];

    /// <summary>The client's address is in <c>actormta.smtp.trusted-networks</c>.</summary>
    public static bool IsTrusted(this ISessionContext context) => context.Properties.TryGetValue(TrustedKey, out var trusted) && (bool)trusted;

    public static ConnectionState Connection(this ISessionContext context) => (ConnectionState)context.Properties[ConnectionKey];

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

    /// <summary>Counts a MAIL command; returns how many this connection has sent.</summary>
    public static int CountTransaction(this ISessionContext context)
    {
        var count = (context.Properties.TryGetValue(TransactionCountKey, out var previous) ? (int)previous : 0) + 1;
        context.Properties[TransactionCountKey] = count;
        return count;
    }

    /// <summary>The authenticated user's login name, or null.</summary>
    public static string? User(this ISessionContext context) =>
        context.Authentication.IsAuthenticated ? Users.UserStore.NormalizeName(context.Authentication.User) : null;

    /// <summary>Client-supplied text made safe for one log line or reply line.</summary>
    public static string Printable(string text, int max = 200) =>
        new(text.Take(max).Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());

    /// <summary>The envelope address as text; the null reverse-path (MAIL FROM:&lt;&gt;) is "".</summary>
    public static string Text(this IMailbox? mailbox) =>
        mailbox is null || string.IsNullOrEmpty(mailbox.User) ? "" : string.IsNullOrEmpty(mailbox.Host) ? mailbox.User : $"{mailbox.User}@{mailbox.Host}";
}
