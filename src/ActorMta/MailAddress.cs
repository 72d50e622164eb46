using System.Globalization;

namespace ActorMta;

/// <summary>Address and domain rules shared by the edge, the directory and delivery.</summary>
public static class MailAddress
{
    static readonly IdnMapping Idn = new();

    /// <summary>Lower case, no trailing dot, A-label form: the one spelling compared everywhere.</summary>
    public static string NormalizeDomain(string domain)
    {
        var d = domain.Trim().TrimEnd('.');
        try
        {
            return Idn.GetAscii(d).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return d.ToLowerInvariant();
        }
    }

    /// <summary>RFC 1123 host name syntax: labels of letters, digits and inner hyphens, at most 63 octets each.</summary>
    public static bool IsValidDomain(string domain)
    {
        if (domain.Length is 0 or > 253)
            return false;
        foreach (var label in domain.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
                return false;
            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-'))
                    return false;
            }
        }
        return true;
    }

    public static string Format(string localPart, string domain) => $"{localPart}@{domain}";

    /// <summary>Splits at the last '@'; a local part may itself contain a quoted '@'.</summary>
    public static (string LocalPart, string Domain) Split(string address)
    {
        var at = address.LastIndexOf('@');
        return at < 0 ? (address, "") : (address[..at], address[(at + 1)..]);
    }
}
