using System.Text;

namespace ActorMta.Delivery;

/// <summary>
/// Delivers into Maildir (<c>&lt;mail root&gt;/&lt;domain&gt;/&lt;local part&gt;/{tmp,new,cur}</c>):
/// written and synced in <c>tmp/</c>, then renamed into <c>new/</c>, so a reader never
/// sees half a message. The file name is derived from the queue id and recipient, which
/// makes a repeated delivery after a crash find the first copy instead of writing a second.
/// </summary>
public sealed class MaildirDelivery(string mailRoot, string hostname)
{
    static readonly byte[] Lf = "\n"u8.ToArray();

    public string MailboxPath(string mailbox)
    {
        var (local, domain) = MailAddress.Split(mailbox);
        return Path.Combine(mailRoot, SafeSegment(domain), SafeSegment(local));
    }

    /// <param name="checkExisting">True when an earlier attempt may have written the file before a crash.</param>
    /// <returns>The path of the delivered file.</returns>
    public string Deliver(string mailbox, string queueId, int recipientIndex, DateTimeOffset acceptedAt, string sender, string originalRecipient, byte[] body, bool checkExisting)
    {
        var root = MailboxPath(mailbox);
        var tmp = Path.Combine(root, "tmp");
        var @new = Path.Combine(root, "new");
        var cur = Path.Combine(root, "cur");
        Directory.CreateDirectory(tmp);
        Directory.CreateDirectory(@new);
        Directory.CreateDirectory(cur);

        var content = Render(sender, mailbox, originalRecipient, body);
        // Maildir unique name: time.unique.host; S= lets IMAP servers skip a stat (Dovecot).
        var baseName = $"{acceptedAt.ToUnixTimeSeconds()}.{queueId}R{recipientIndex}.{hostname}";
        var fileName = $"{baseName},S={content.Length}";
        var target = Path.Combine(@new, fileName);
        if (checkExisting)
        {
            if (File.Exists(target))
                return target;
            var read = Directory.EnumerateFiles(cur, baseName + ",*").FirstOrDefault();
            if (read is not null)
                return read;
        }

        var temporary = Path.Combine(tmp, fileName);
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(content);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, target, overwrite: true);
        return target;
    }

    /// <summary>
    /// Adds the final-delivery trace fields (RFC 5321 §4.4 Return-Path; Delivered-To and
    /// X-Original-To as Postfix writes them) and stores lines with LF endings, the Maildir convention.
    /// </summary>
    static byte[] Render(string sender, string mailbox, string originalRecipient, byte[] body)
    {
        var header = Encoding.UTF8.GetBytes($"Return-Path: <{sender}>\nDelivered-To: {mailbox}\nX-Original-To: {originalRecipient}\n");
        using var output = new MemoryStream(header.Length + body.Length);
        output.Write(header);
        var span = body.AsSpan();
        while (span.Length > 0)
        {
            var crlf = span.IndexOf("\r\n"u8);
            if (crlf < 0)
            {
                output.Write(span);
                break;
            }
            output.Write(span[..crlf]);
            output.Write(Lf);
            span = span[(crlf + 2)..];
        }
        return output.ToArray();
    }

    /// <summary>Local parts may hold characters a path must not: '/' and a leading '.' never reach the file system.</summary>
    static string SafeSegment(string segment)
    {
        var builder = new StringBuilder(segment.Length);
        foreach (var c in segment)
            builder.Append(c is '/' or '\\' or '\0' ? '_' : c);
        var result = builder.ToString();
        return result.StartsWith('.') ? "_" + result[1..] : result;
    }
}
