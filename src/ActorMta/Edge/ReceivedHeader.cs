using System.Globalization;
using System.Text;
using SmtpServer;

namespace ActorMta.Edge;

/// <summary>The trace field prepended to every accepted message (RFC 5321 §4.4, RFC 5322 §3.6.7).</summary>
static class ReceivedHeader
{
    public static byte[] For(ISessionContext context, string hostname, string queueId, IReadOnlyList<string> recipients, DateTimeOffset now)
    {
        var client = context.Client();
        var address = client is null ? "unknown" : client.Address.ToString();
        var literal = client?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"IPv6:{address}" : address;
        var helo = context.Helo();
        // RFC 3848: ESMTPS over TLS, ESMTPA authenticated, ESMTPSA both.
        var protocol = !context.UsedEhlo() ? "SMTP"
            : "ESMTP" + (context.Pipe.IsSecure ? "S" : "") + (context.Authentication.IsAuthenticated ? "A" : "");
        // Naming the recipient only when there is one keeps a Bcc list private, as Postfix does.
        var forClause = recipients.Count == 1 ? $"\r\n\tfor <{recipients[0]}>" : "";
        var date = now.ToString("ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture) + now.ToString("zzz", CultureInfo.InvariantCulture).Replace(":", "", StringComparison.Ordinal);
        var text = $"Received: from {(helo.Length > 0 ? helo : "unknown")} ([{literal}])\r\n\tby {hostname} (ActorMta) with {protocol} id {queueId}{forClause};\r\n\t{date}\r\n";
        return Encoding.UTF8.GetBytes(text);
    }
}
