using System.Globalization;
using System.Text;
using ActorMta.Protocol;
using ActorMta.Queue;
using MimeKit;
using MimeKit.Utils;

namespace ActorMta.Delivery;

/// <summary>
/// Delivery status notifications (RFC 3464): a readable explanation, the machine-readable
/// <c>message/delivery-status</c> part, and the original message's headers (not its body: a
/// notice should not carry the content back, RFC 3462 §2 allows headers only).
/// </summary>
public sealed class DsnBuilder(string hostname)
{
    /// <summary>Queued like mail received over SMTP: CRLF line ends, whatever the platform's default.</summary>
    static readonly FormatOptions Wire = new() { NewLineFormat = NewLineFormat.Dos };

    public byte[] Build(MessageState message, NoticeDue notice, byte[] original, QueuePolicy policy, DateTimeOffset now)
    {
        var report = new MultipartReport("delivery-status")
        {
            new TextPart("plain") { Text = Explanation(message, notice, policy, now) },
            Status(message, notice, policy, now),
            new TextRfc822Headers { Message = Headers(original) },
        };
        var dsn = new MimeMessage
        {
            Subject = notice.Kind == NoticeKind.Failure ? "Undelivered Mail Returned to Sender" : "Delayed Mail (still being retried)",
            Date = now,
            MessageId = $"{notice.NoticeQueueId}@{hostname}",
            Body = report,
        };
        dsn.From.Add(new MailboxAddress("Mail Delivery System", $"MAILER-DAEMON@{hostname}"));
        dsn.To.Add(MailboxAddress.Parse(message.Sender));
        // RFC 3834 §5: an automatic reply; well-behaved responders will not answer it.
        dsn.Headers.Add("Auto-Submitted", "auto-replied");
        using var output = new MemoryStream();
        dsn.WriteTo(Wire, output);
        return output.ToArray();
    }

    string Explanation(MessageState message, NoticeDue notice, QueuePolicy policy, DateTimeOffset now)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"This is the mail system at host {hostname}.\n\n");
        if (notice.Kind == NoticeKind.Failure)
        {
            text.Append(notice.Recipients.Any(i => message.Recipients[i].Expired)
                ? $"Your message could not be delivered for {Age(now - message.ReceivedAt)} and has been returned to you.\n"
                : "I'm sorry to have to inform you that your message could not be delivered\nto one or more recipients. Its headers are attached below.\n");
            text.Append("\nFor further assistance, please send mail to postmaster.\n\n");
        }
        else
        {
            text.Append("####################################################################\n");
            text.Append("# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n");
            text.Append("####################################################################\n\n");
            var until = notice.Recipients.Max(i => policy.ExpiresAt(message.Recipients[i].Address, message.ReceivedAt));
            text.Append(CultureInfo.InvariantCulture,
                $"Your message could not be delivered for {Age(now - message.ReceivedAt)}.\nIt will be retried until {DateUtils.FormatDate(until)}.\n\n");
        }
        foreach (var i in notice.Recipients)
        {
            var r = message.Recipients[i];
            text.Append(CultureInfo.InvariantCulture, $"<{r.Address.Mailbox}>: {r.Last?.Text ?? "no attempt yet"}\n");
        }
        return text.ToString();
    }

    MessageDeliveryStatus Status(MessageState message, NoticeDue notice, QueuePolicy policy, DateTimeOffset now)
    {
        var status = new MessageDeliveryStatus();
        status.StatusGroups.Add(new HeaderList
        {
            { "Reporting-MTA", $"dns; {hostname}" },
            { "X-ActorMta-Queue-ID", message.QueueId! },
            { "Arrival-Date", DateUtils.FormatDate(message.ReceivedAt) },
        });
        foreach (var i in notice.Recipients)
        {
            var r = message.Recipients[i];
            var last = r.Last;
            var group = new HeaderList { { "Final-Recipient", $"rfc822; {r.Address.Mailbox}" } };
            if (!string.Equals(r.Address.Original, r.Address.Mailbox, StringComparison.OrdinalIgnoreCase))
                group.Add("Original-Recipient", $"rfc822; {r.Address.Original}");
            group.Add("Action", notice.Kind == NoticeKind.Failure ? "failed" : "delayed");
            group.Add("Status", last?.Dsn ?? "4.0.0");
            if (last?.RemoteMta is { } remote)
                group.Add("Remote-MTA", $"dns; {remote}");
            if (last?.Diagnostic is { } diagnostic)
                group.Add("Diagnostic-Code", $"smtp; {diagnostic}");
            group.Add("Last-Attempt-Date", DateUtils.FormatDate(now));
            if (notice.Kind != NoticeKind.Failure)
                group.Add("Will-Retry-Until", DateUtils.FormatDate(policy.ExpiresAt(r.Address, message.ReceivedAt)));
            status.StatusGroups.Add(group);
        }
        return status;
    }

    /// <summary>The original's header section, as a message without a body.</summary>
    static MimeMessage Headers(byte[] original)
    {
        // The header section ends at the first empty line; a careless client ends lines with a bare LF.
        var span = original.AsSpan();
        var crlf = span.IndexOf("\n\r\n"u8);
        var lf = span.IndexOf("\n\n"u8);
        var end = crlf < 0 ? lf : lf < 0 ? crlf : Math.Min(crlf, lf);
        var length = end < 0 ? span.Length : end + 1;
        var headers = new byte[length + 2];
        span[..length].CopyTo(headers);
        "\r\n"u8.CopyTo(headers.AsSpan(length));
        return MimeMessage.Load(new MemoryStream(headers, writable: false));
    }

    static string Age(TimeSpan age) => age switch
    {
        { TotalDays: >= 2 } => $"{(int)age.TotalDays} days",
        { TotalHours: >= 2 } => $"{(int)age.TotalHours} hours",
        { TotalMinutes: >= 2 } => $"{(int)age.TotalMinutes} minutes",
        _ => $"{(int)age.TotalSeconds} seconds",
    };
}
