using ActorMta.Config;
using ActorMta.Users;
using MimeKit;

namespace ActorMta.Edge;

/// <summary>
/// Which addresses an authenticated user may send as: its login address, the local addresses
/// that reach its mailbox (aliases, address extensions), and the extra senders in its record,
/// where "@domain" stands for every address of that domain.
/// </summary>
public sealed class SenderOwnership(ActorMtaSettings settings, UserStore users)
{
    /// <param name="address">An envelope or header address; "" is the null reverse-path, which anyone may use (bounces, receipts).</param>
    public bool Owns(string userName, string address)
    {
        if (address.Length == 0)
            return true;
        if (users.Find(userName) is not { } user)
            return false;
        var (local, domain) = MailAddress.Split(address);
        var normalized = MailAddress.Format(local.ToLowerInvariant(), MailAddress.NormalizeDomain(domain));
        if (normalized == user.Name || user.Senders.Any(s => s == normalized || (s.StartsWith('@') && normalized.EndsWith(s, StringComparison.Ordinal))))
            return true;
        return settings.Recipients.Lookup(local, domain) is RecipientLookup.Local reached && reached.Mailboxes.Contains(user.Name);
    }

    /// <returns>The first From address of the message that the user does not own, or null when all are its own.</returns>
    public string? ForeignFromAddress(string userName, Stream message)
    {
        HeaderList headers;
        try
        {
            headers = HeaderList.Load(message);
        }
        catch (FormatException)
        {
            return "(unreadable header)";
        }
        foreach (var from in headers.Where(h => h.Id == HeaderId.From))
        {
            if (!InternetAddressList.TryParse(ParserOptions.Default, from.RawValue, out var addresses))
                return from.Value.Trim();
            var foreign = addresses.Mailboxes.FirstOrDefault(m => !Owns(userName, m.Address));
            if (foreign is not null)
                return foreign.Address;
        }
        return null;
    }
}
